// Provenance: the same attention as Attention.forward, computed as GEMMs (S = Q Kᵀ, O = softmax(S) V),
// the usual CPU formulation for many queries at once; query heads sharing a KV head are stacked
// into one product and causal blocks that see no key are skipped, as blocked attention kernels
// (FlashAttention's tiling) do.

extension Attention {
    /// Queries at or above which `forward` switches to ``forwardWithGEMM``: GEMM wastes the
    /// masked upper triangle but runs ~10× faster per FLOP than per-pair dot products.
    public static let gemmQueryThreshold = 16

    /// Query positions per tile of the GEMM formulation. Smaller tiles skip more of the masked
    /// triangle (for T = 256: 64 → 62.5% of the full square's FLOPs, 128 → 75%) but make smaller
    /// products; 64 × (H/Hkv) rows keeps them at BLAS's efficient sizes.
    public static let defaultQueryBlock = 64

    /// One tile: the G = H/Hkv query heads of KV head `group` at queries `queries`, stacked
    /// position-major (row r holds query `queries.lowerBound + r / G`, head `group·G + r % G`),
    /// against `keys`, the span any of them sees. For a fixed query those G heads are adjacent
    /// in `[T × H × Dh]`, so a tile's rows are `queries.count` contiguous runs of G·Dh floats.
    struct Tile {
        let group: Int
        let queries: Range<Int>
        let keys: ClosedRange<Int>
        let headsPerGroup: Int

        var rows: Int { queries.count * headsPerGroup }

        /// The query that row `r` belongs to.
        @inline(__always)
        func query(ofRow r: Int) -> Int { queries.lowerBound + r / headsPerGroup }

        /// Every tile of an attention call, group-major, queries in blocks of `queryBlock`.
        static func all(_ s: Shape, queryBlock: Int) -> [Tile] {
            let g = s.heads / s.kvHeads
            return (0..<s.kvHeads).flatMap { group in
                stride(from: 0, to: s.queries, by: queryBlock).map { t0 in
                    let t1 = min(s.queries, t0 + queryBlock)
                    let keys = s.keyRange(query: t0).lowerBound...s.keyRange(query: t1 - 1).upperBound
                    return Tile(group: group, queries: t0..<t1, keys: keys, headsPerGroup: g)
                }
            }
        }

        /// Copies this tile's rows of `x` `[T × H × Dh]` into `packed` `[rows × Dh]`.
        func gather(_ x: UnsafePointer<Float>, shape s: Shape, into packed: UnsafeMutablePointer<Float>) {
            let run = headsPerGroup * s.headDim
            for (i, t) in queries.enumerated() {
                (packed + i * run).update(from: x + t * s.heads * s.headDim + group * run, count: run)
            }
        }

        /// Copies `packed` `[rows × Dh]` to this tile's rows of `x` `[T × H × Dh]`.
        func scatter(_ packed: UnsafePointer<Float>, shape s: Shape, into x: UnsafeMutablePointer<Float>) {
            let run = headsPerGroup * s.headDim
            for (i, t) in queries.enumerated() {
                (x + t * s.heads * s.headDim + group * run).update(from: packed + i * run, count: run)
            }
        }

        /// P `[rows × keys.count]` = masked softmax(scale · Q_tile K_keysᵀ); entries a row's query
        /// does not see are exact zeros. `packedQueries` is the tile's gathered q. With
        /// `alone`, the product runs on the calling thread (built-in GEMM), else through ``BLAS``.
        func probabilities(
            shape s: Shape, packedQueries: UnsafePointer<Float>, keys k: UnsafePointer<Float>,
            into p: UnsafeMutablePointer<Float>, alone: Bool = false
        ) {
            let n = keys.count, kvStride = s.kvHeads * s.headDim
            Attention.gemm(alone: alone, m: rows, n: n, k: s.headDim, alpha: s.scale, a: packedQueries, lda: s.headDim,
                           b: k + keys.lowerBound * kvStride + group * s.headDim, ldb: kvStride, transposeB: true, c: p, ldc: n)
            for r in 0..<rows {
                let visible = s.keyRange(query: query(ofRow: r))
                softmaxRow(p + r * n, visible: (visible.lowerBound - keys.lowerBound)...(visible.upperBound - keys.lowerBound),
                           count: n)
            }
        }
    }

    /// Same contract as ``forward(shape:q:keys:values:out:threads:ownThreads:)``, as two GEMMs per
    /// tile (see ``Tile``). `threads` nil: tiles one after another, each product multi-threaded by
    /// BLAS. A count: the tiles spread over that many of our threads, each product on its own
    /// thread through the built-in GEMM, so no BLAS worker threads run (OpenBLAS's spin after each
    /// call and take the core from ours: ~15% of a bf16 prefill's samples). The built-in GEMM
    /// computes every element alike whatever its thread count, so with the built-in backend both
    /// give the same bits.
    public static func forwardWithGEMM(
        shape s: Shape, q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, queryBlock: Int = defaultQueryBlock, threads: Int? = nil
    ) {
        let tiles = Tile.all(s, queryBlock: queryBlock)
        guard let threads, threads > 1, tiles.count > 1 else {
            attend(tiles, shape: s, q: q, keys: keys, values: values, out: out, queryBlock: queryBlock, alone: threads != nil)
            return
        }
        // Longest first onto the least loaded thread: causal tiles grow with their queries.
        var lists = [[Tile]](repeating: [], count: min(threads, tiles.count)), load = [Int](repeating: 0, count: lists.count)
        for tile in tiles.sorted(by: { $0.rows * $0.keys.count > $1.rows * $1.keys.count }) {
            let i = load.indices.min { load[$0] < load[$1] }!
            lists[i].append(tile)
            load[i] += tile.rows * tile.keys.count
        }
        nonisolated(unsafe) let (target, queries, k, v) = (out, q, keys, values)  // tiles write disjoint rows
        let assigned = lists
        Parallel.forEachChunk(count: assigned.count, threads: assigned.count) { range in
            for i in range {
                attend(assigned[i], shape: s, q: queries, keys: k, values: v, out: target, queryBlock: queryBlock, alone: true)
            }
        }
    }

    /// Runs `tiles` in order (see ``forwardWithGEMM(shape:q:keys:values:out:queryBlock:threads:)``).
    static func attend(
        _ tiles: [Tile], shape s: Shape, q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, queryBlock: Int, alone: Bool
    ) {
        let n = s.queryStart + s.queries, dh = s.headDim, kvStride = s.kvHeads * dh
        let maxRows = min(queryBlock, s.queries) * (s.heads / s.kvHeads)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: maxRows * n)
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: 2 * maxRows * dh)
        defer {
            scores.deallocate()
            packed.deallocate()
        }
        let packedOut = packed + maxRows * dh
        for tile in tiles {
            tile.gather(q, shape: s, into: packed)
            tile.probabilities(shape: s, packedQueries: packed, keys: keys, into: scores, alone: alone)
            // O_tile [rows × Dh] = P [rows × n] · V_keys [n × Dh]
            gemm(alone: alone, m: tile.rows, n: dh, k: tile.keys.count, a: scores, lda: tile.keys.count,
                 b: values + tile.keys.lowerBound * kvStride + tile.group * dh, ldb: kvStride, transposeB: false, c: packedOut, ldc: dh)
            tile.scatter(packedOut, shape: s, into: out)
        }
    }

    /// `C = alpha·A·op(B)` through ``BLAS/gemm(m:n:k:alpha:a:lda:transposeA:b:ldb:transposeB:beta:c:ldc:)``,
    /// or with `alone` the built-in fp32 GEMM on the calling thread.
    @inline(__always)
    static func gemm(
        alone: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if alone {
            PackedGEMM.gemm(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc,
                            threads: 1)
        } else {
            BLAS.gemm(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc)
        }
    }
}
