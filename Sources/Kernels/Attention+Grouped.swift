// Provenance: decode attention with the query heads of one KV head batched against each key and
// value row (the grouped-query layout of llama.cpp / FlashDecoding's per-KV-head work split); the
// products run in Sources/CKernels/attention_avx512.c, bit-for-bit equal to ``Attention/attendOne``.
import CKernels

extension Attention {
    /// Same contract as ``forward(shape:q:keys:values:out:threads:)`` for few queries: a work item
    /// is one query's heads sharing a KV head (split into slices when there are fewer items than
    /// threads), so each key and value row is read once per item instead of once per head. Needs
    /// `rmas_attention_supported(Dh)`.
    static func forwardGrouped(
        shape s: Shape, q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, threads: Int
    ) {
        nonisolated(unsafe) let (q, keys, values, out) = (q, keys, values, out)  // read-only / disjoint rows
        let group = s.heads / s.kvHeads, dh = s.headDim, stride = s.kvHeads * dh
        let threads = s.work < 32_768 ? 1 : threads
        let units = s.queries * s.kvHeads
        let slices = min(group, max(1, (threads + units - 1) / units)), perSlice = (group + slices - 1) / slices
        Parallel.forEachChunk(count: units * slices, threads: threads) { range in
            let span = s.queryStart + s.queries
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: perSlice * span)
            defer { scores.deallocate() }
            for item in range {
                let t = item / (s.kvHeads * slices), kvh = item / slices % s.kvHeads, slice = item % slices
                let first = slice * perSlice, count = min(perSlice, group - first)
                guard count > 0 else { continue }
                let h0 = kvh * group + first, visible = s.keyRange(query: t), n = visible.count
                let offset = visible.lowerBound * stride + kvh * dh
                rmas_attention_scores(Int32(count), Int32(dh), Int32(n), q + (t * s.heads + h0) * dh, keys + offset,
                                      stride, s.scale, scores)
                for g in 0..<count { normalize(scores + g * n, count: n) }
                rmas_attention_mix(Int32(count), Int32(dh), Int32(n), scores, values + offset, stride,
                                   out + (t * s.heads + h0) * dh)
            }
        }
    }

    /// scores ← softmax(scores) of one head's visible keys, rounded as both decode paths need it:
    /// exp(s − max), the total summed in key order, each entry times 1 / total.
    @inline(__always)
    static func normalize(_ scores: UnsafeMutablePointer<Float>, count n: Int) {
        var maximum = -Float.infinity
        for i in 0..<n { maximum = max(maximum, scores[i]) }
        VectorMath.map(scores, scores, count: n) { VectorMath.exp($0 - maximum) }
        var total: Float = 0
        for i in 0..<n { total += scores[i] }
        let inverse = 1 / total
        VectorMath.map(scores, scores, count: n) { $0 * inverse }
    }
}
