// Provenance: the gradient of softmax attention (as derived for FlashAttention-2's backward,
// here recomputing P per head instead of storing it): with S = scale·QKᵀ (masked), P = softmax(S),
// O = PV: dV = PᵀdO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ O)), dQ = scale·dS K, dK = scale·dSᵀQ.

extension Attention {
    /// Backward of ``forward(shape:q:keys:values:out:threads:)`` for T queries over keys/values at
    /// positions 0 ..< N (N = queryStart + T).
    ///
    /// - q `[T × H × Dh]`, keys/values `[N × Hkv × Dh]`, out `[T × H × Dh]` (the forward's result),
    ///   dOut `[T × H × Dh]`.
    /// - Writes dQ `[T × H × Dh]`; **adds** into dKeys/dValues `[N × Hkv × Dh]` (query heads sharing
    ///   a KV head, and callers holding cached prefixes, accumulate there).
    public static func backward(
        shape s: Shape, q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        out: UnsafePointer<Float>, dOut: UnsafePointer<Float>,
        dQ: UnsafeMutablePointer<Float>, dKeys: UnsafeMutablePointer<Float>, dValues: UnsafeMutablePointer<Float>
    ) {
        let t = s.queries, n = s.queryStart + t, dh = s.headDim
        let qStride = s.heads * dh, kvStride = s.kvHeads * dh
        let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: t * n)
        let dScores = UnsafeMutablePointer<Float>.allocate(capacity: t * n)
        let rowTerms = UnsafeMutablePointer<Float>.allocate(capacity: t)
        defer {
            probabilities.deallocate()
            dScores.deallocate()
            rowTerms.deallocate()
        }
        for h in 0..<s.heads {
            let kvh = h / (s.heads / s.kvHeads)
            let qh = q + h * dh, oh = out + h * dh, dOh = dOut + h * dh
            let kg = keys + kvh * dh, vg = values + kvh * dh
            // P [T × N]: recomputed exactly as the forward does.
            BLAS.gemm(m: t, n: n, k: dh, alpha: s.scale, a: qh, lda: qStride, b: kg, ldb: kvStride,
                      transposeB: true, c: probabilities, ldc: n)
            for row in 0..<t { softmaxRow(probabilities + row * n, visible: s.keyRange(query: row), count: n) }
            // dV_g += Pᵀ dO_h   [N × Dh]
            BLAS.gemm(m: n, n: dh, k: t, a: probabilities, lda: n, transposeA: true, b: dOh, ldb: qStride,
                      transposeB: false, beta: 1, c: dValues + kvh * dh, ldc: kvStride)
            // dP = dO_h V_gᵀ  [T × N]; dS = P ⊙ (dP − Σ_j P dP) with Σ_j P dP = dO·O.
            BLAS.gemm(m: t, n: n, k: dh, a: dOh, lda: qStride, b: vg, ldb: kvStride, transposeB: true,
                      c: dScores, ldc: n)
            for row in 0..<t {
                rowTerms[row] = Dot.dot(dOh + row * qStride, oh + row * qStride, count: dh)
                let p = probabilities + row * n, d = dScores + row * n, term = rowTerms[row]
                for j in 0..<n { d[j] = p[j] * (d[j] - term) }
            }
            // dQ_h = scale · dS K_g   [T × Dh]
            BLAS.gemm(m: t, n: dh, k: n, alpha: s.scale, a: dScores, lda: n, b: kg, ldb: kvStride,
                      transposeB: false, c: dQ + h * dh, ldc: qStride)
            // dK_g += scale · dSᵀ Q_h   [N × Dh]
            BLAS.gemm(m: n, n: dh, k: t, alpha: s.scale, a: dScores, lda: n, transposeA: true, b: qh, ldb: qStride,
                      transposeB: false, beta: 1, c: dKeys + kvh * dh, ldc: kvStride)
        }
    }

    /// Masked softmax of one score row in place: entries outside `visible` become exact zeros.
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, visible: ClosedRange<Int>, count n: Int) {
        row.update(repeating: 0, count: visible.lowerBound)
        let start = row + visible.lowerBound, count = visible.count
        let m = VectorMath.maximum(start, count: count)
        let total = VectorMath.exponentiate(start, count: count, subtracting: m)
        VectorMath.scale(start, count: count, by: 1 / total)
        (row + visible.upperBound + 1).update(repeating: 0, count: n - visible.upperBound - 1)
    }
}
