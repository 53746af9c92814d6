// Provenance: the gradient of softmax attention (as derived for FlashAttention-2's backward,
// here recomputing P per tile instead of storing it): with S = scale·QKᵀ (masked), P = softmax(S),
// O = PV: dV = PᵀdO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ O)), dQ = scale·dS K, dK = scale·dSᵀQ.

extension Attention {
    /// Backward of ``forward(shape:q:keys:values:out:threads:)`` for T queries over keys/values at
    /// positions 0 ..< N (N = queryStart + T), tiled as ``forwardWithGEMM(shape:q:keys:values:out:queryBlock:threads:)``.
    ///
    /// - q `[T × H × Dh]`, keys/values `[N × Hkv × Dh]`, out `[T × H × Dh]` (the forward's result),
    ///   dOut `[T × H × Dh]`.
    /// - Writes dQ `[T × H × Dh]`; **adds** into dKeys/dValues `[N × Hkv × Dh]` (query heads sharing
    ///   a KV head, and callers holding cached prefixes, accumulate there).
    public static func backward(
        shape s: Shape, q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        out: UnsafePointer<Float>, dOut: UnsafePointer<Float>,
        dQ: UnsafeMutablePointer<Float>, dKeys: UnsafeMutablePointer<Float>, dValues: UnsafeMutablePointer<Float>,
        queryBlock: Int = defaultQueryBlock
    ) {
        let n = s.queryStart + s.queries, dh = s.headDim, kvStride = s.kvHeads * dh
        let g = s.heads / s.kvHeads, maxRows = min(queryBlock, s.queries) * g
        let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: maxRows * n)
        let dScores = UnsafeMutablePointer<Float>.allocate(capacity: maxRows * n)
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: 3 * maxRows * dh)
        defer {
            probabilities.deallocate()
            dScores.deallocate()
            packed.deallocate()
        }
        let packedQ = packed, packedDOut = packed + maxRows * dh, packedDQ = packed + 2 * maxRows * dh
        for tile in Tile.all(s, queryBlock: queryBlock) {
            let rows = tile.rows, width = tile.keys.count
            let kTile = keys + tile.keys.lowerBound * kvStride + tile.group * dh
            let vTile = values + tile.keys.lowerBound * kvStride + tile.group * dh
            let dKTile = dKeys + tile.keys.lowerBound * kvStride + tile.group * dh
            let dVTile = dValues + tile.keys.lowerBound * kvStride + tile.group * dh
            tile.gather(q, shape: s, into: packedQ)
            tile.gather(dOut, shape: s, into: packedDOut)
            // P [rows × width]: recomputed exactly as the forward does.
            tile.probabilities(shape: s, packedQueries: packedQ, keys: keys, into: probabilities)
            // dV_keys += Pᵀ dO_tile   [width × Dh]
            BLAS.gemm(m: width, n: dh, k: rows, a: probabilities, lda: width, transposeA: true, b: packedDOut, ldb: dh,
                      transposeB: false, beta: 1, c: dVTile, ldc: kvStride)
            // dP = dO_tile V_keysᵀ  [rows × width]; dS = P ⊙ (dP − Σ_j P dP) with Σ_j P dP = dO·O.
            BLAS.gemm(m: rows, n: width, k: dh, a: packedDOut, lda: dh, b: vTile, ldb: kvStride, transposeB: true,
                      c: dScores, ldc: width)
            for r in 0..<rows {
                let at = (tile.query(ofRow: r) * s.heads + tile.group * g + r % g) * dh
                let term = Dot.dot(dOut + at, out + at, count: dh)
                softmaxGradientRow(probabilities + r * width, dScores + r * width, minus: term, count: width)
            }
            // dQ_tile = scale · dS K_keys   [rows × Dh]
            BLAS.gemm(m: rows, n: dh, k: width, alpha: s.scale, a: dScores, lda: width, b: kTile, ldb: kvStride,
                      transposeB: false, c: packedDQ, ldc: dh)
            tile.scatter(packedDQ, shape: s, into: dQ)
            // dK_keys += scale · dSᵀ Q_tile   [width × Dh]
            BLAS.gemm(m: width, n: dh, k: rows, alpha: s.scale, a: dScores, lda: width, transposeA: true, b: packedQ,
                      ldb: dh, transposeB: false, beta: 1, c: dKTile, ldc: kvStride)
        }
    }

    /// d[j] ← p[j] · (d[j] − term), 16 lanes at a time.
    @inline(__always)
    static func softmaxGradientRow(_ p: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, minus term: Float, count n: Int) {
        var j = 0
        while j + 16 <= n {
            let pv = UnsafeRawPointer(p + j).loadUnaligned(as: SIMD16<Float>.self)
            let dv = UnsafeRawPointer(d + j).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(d + j).storeBytes(of: pv * (dv - term), as: SIMD16<Float>.self)
            j += 16
        }
        while j < n {
            d[j] = p[j] * (d[j] - term)
            j += 1
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
