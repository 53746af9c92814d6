// Provenance: causal scaled-dot-product attention with grouped KV heads (query head h reads KV
// head h / (H/Hkv)), as llama.cpp build_attn / HF eager attention; a sliding window of w lets
// position p see keys p−w+1 … p (llama.cpp LLAMA_SWA_TYPE_STANDARD, HF sliding_window).

import CKernels

/// Multi-head attention of T new queries over a KV span.
public enum Attention {
    /// Shapes of one attention call.
    public struct Shape: Sendable {
        public var queries: Int  // T
        public var heads: Int  // H
        public var kvHeads: Int  // Hkv
        public var headDim: Int  // Dh (same for keys and values here)
        /// Absolute position of query 0; query t sits at `queryStart + t` and sees keys 0…that.
        public var queryStart: Int
        public var scale: Float
        /// Sliding window length, or nil for full causal attention.
        public var window: Int?

        public init(queries: Int, heads: Int, kvHeads: Int, headDim: Int, queryStart: Int, scale: Float, window: Int?) {
            precondition(heads % kvHeads == 0, "heads must be a multiple of kvHeads")
            self.queries = queries
            self.heads = heads
            self.kvHeads = kvHeads
            self.headDim = headDim
            self.queryStart = queryStart
            self.scale = scale
            self.window = window
        }

        /// Multiply-adds of the score and mix products, to decide whether threads pay.
        var work: Int { queries * (queryStart + queries) * heads * headDim }

        /// The key positions query t attends to.
        @inline(__always)
        public func keyRange(query t: Int) -> ClosedRange<Int> {
            let p = queryStart + t
            return max(0, window.map { p - $0 + 1 } ?? 0)...p
        }
    }

    /// out `[T × H × Dh]` = softmax(q kᵀ · scale) v, with q `[T × H × Dh]` and keys/values
    /// `[N × Hkv × Dh]` holding positions 0 ..< N (N ≥ queryStart + T). Many queries run as
    /// GEMMs: through BLAS, or on `threads` of ours with the built-in GEMM when `ownThreads` or
    /// when the built-in GEMM is the BLAS anyway (``forwardWithGEMM(shape:q:keys:values:out:queryBlock:threads:)``).
    public static func forward(
        shape: Shape, q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, threads: Int = Parallel.defaultThreadCount, ownThreads: Bool = false
    ) {
        if shape.queries >= gemmQueryThreshold {
            forwardWithGEMM(shape: shape, q: q, keys: keys, values: values, out: out,
                            threads: ownThreads || BLAS.backend == .builtin ? threads : nil)
            return
        }
        if rmas_attention_supported(Int32(shape.headDim)) != 0 {
            forwardGrouped(shape: shape, q: q, keys: keys, values: values, out: out, threads: threads)
            return
        }
        forwardPerHead(shape: shape, q: q, keys: keys, values: values, out: out, threads: threads)
    }

    /// Portable decode path: one (query, head) pair per work item through ``attendOne``.
    static func forwardPerHead(
        shape: Shape, q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, threads: Int
    ) {
        nonisolated(unsafe) let (q, keys, values, out) = (q, keys, values, out)  // read-only / disjoint rows
        let items = shape.queries * shape.heads
        Parallel.forEachChunk(count: items, threads: shape.work < 32_768 ? 1 : threads) { range in
            let span = shape.queryStart + shape.queries
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: span)
            defer { scores.deallocate() }
            for item in range {
                attendOne(shape: shape, t: item / shape.heads, h: item % shape.heads,
                          q: q, keys: keys, values: values, out: out, scores: scores)
            }
        }
    }

    @inline(__always)
    static func attendOne(
        shape: Shape, t: Int, h: Int, q: UnsafePointer<Float>, keys: UnsafePointer<Float>,
        values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>
    ) {
        let dh = shape.headDim, kvh = h / (shape.heads / shape.kvHeads), stride = shape.kvHeads * dh
        let query = q + (t * shape.heads + h) * dh
        let range = shape.keyRange(query: t)
        for (i, j) in range.enumerated() {
            scores[i] = Dot.dot(query, keys + j * stride + kvh * dh, count: dh) * shape.scale
        }
        normalize(scores, count: range.count)
        let result = out + (t * shape.heads + h) * dh
        result.update(repeating: 0, count: dh)
        for (i, j) in range.enumerated() {
            Dot.axpy(scores[i], values + j * stride + kvh * dh, result, count: dh)
        }
    }
}

/// Small fp32 vector primitives.
public enum Dot {
    /// Σ a[i]·b[i].
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            acc.addProduct(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self),
                           UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self))
            i += 16
        }
        var sum = acc.sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// y += alpha · x.
    @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            var v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            v.addProduct(SIMD16(repeating: alpha), UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self))
            UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            y[i] += alpha * x[i]
            i += 1
        }
    }
}
