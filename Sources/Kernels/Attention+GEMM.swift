// Provenance: the same attention as Attention.forward, computed per head as two GEMMs
// (S = Q Kᵀ, O = softmax(S) V), the usual CPU formulation for many queries at once.

extension Attention {
    /// Queries at or above which `forward` switches to ``forwardWithGEMM``: GEMM wastes the
    /// masked upper triangle but runs ~10× faster per FLOP than per-pair dot products.
    public static let gemmQueryThreshold = 16

    /// Same contract as ``forward(shape:q:keys:values:out:threads:)``, via BLAS per query head.
    public static func forwardWithGEMM(
        shape s: Shape, q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>
    ) {
        let n = s.queryStart + s.queries, dh = s.headDim
        let qStride = s.heads * dh, kvStride = s.kvHeads * dh
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: s.queries * n)
        defer { scores.deallocate() }
        for h in 0..<s.heads {
            let kvh = h / (s.heads / s.kvHeads)
            // S [T × N] = scale · Q_h [T × Dh] · K_g[N × Dh]ᵀ
            BLAS.gemm(m: s.queries, n: n, k: dh, alpha: s.scale, a: q + h * dh, lda: qStride,
                      b: keys + kvh * dh, ldb: kvStride, transposeB: true, c: scores, ldc: n)
            // Row-wise masked softmax; masked entries become exact zeros.
            for t in 0..<s.queries { softmaxRow(scores + t * n, visible: s.keyRange(query: t), count: n) }
            // O_h [T × Dh] = P [T × N] · V_g [N × Dh]
            BLAS.gemm(m: s.queries, n: dh, k: n, a: scores, lda: n, b: values + kvh * dh, ldb: kvStride,
                      transposeB: false, c: out + h * dh, ldc: qStride)
        }
    }
}
