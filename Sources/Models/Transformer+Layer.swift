// Provenance: one decoder block as in llama.cpp llm_build_llama / llm_build_qwen2 / llm_build_gemma3,
// with each family's switches read from ``Architecture``.
import Kernels

/// Activation buffers for one forward call over T positions (allocated once per call).
///
/// The block keeps every value its backward needs in its own buffer (inputs of norms and
/// activations, rotated q/k), so recomputing a layer for training is the same code as inference.
final class ForwardScratch {
    let x: UnsafeMutablePointer<Float>  // [T × D] residual stream
    let normed: UnsafeMutablePointer<Float>  // [T × D] pre-norm output (attention, then FFN)
    let q: UnsafeMutablePointer<Float>  // [T × H·Dh] projection (+ bias)
    let k: UnsafeMutablePointer<Float>  // [T × Hkv·Dh]
    let v: UnsafeMutablePointer<Float>  // [T × Hkv·Dh]
    let qRotated: UnsafeMutablePointer<Float>  // [T × H·Dh] after q-norm (if any) and RoPE
    let kRotated: UnsafeMutablePointer<Float>  // [T × Hkv·Dh]
    let attention: UnsafeMutablePointer<Float>  // [T × H·Dh]
    let projected: UnsafeMutablePointer<Float>  // [T × D] attention or FFN output before its post-norm
    let postNormed: UnsafeMutablePointer<Float>  // [T × D] after the post-norm (Gemma-3)
    let gate: UnsafeMutablePointer<Float>  // [T × F] pre-activation
    let up: UnsafeMutablePointer<Float>  // [T × F]
    let activated: UnsafeMutablePointer<Float>  // [T × F]
    /// When set, the residual stream after the attention half is copied here ([T × D]).
    var residualAfterAttention: UnsafeMutablePointer<Float>?
    /// When set, the attention half's output before its post-norm is copied here ([T × D]); the
    /// FFN half reuses `projected`, and the post-norm's backward needs its input.
    var attentionProjected: UnsafeMutablePointer<Float>?

    init(configuration c: ModelConfiguration, positions t: Int) {
        let qWidth = c.headCount * c.keyLength, kvWidth = c.kvHeadCount * c.keyLength
        x = .allocate(capacity: t * c.width)
        normed = .allocate(capacity: t * c.width)
        q = .allocate(capacity: t * qWidth)
        k = .allocate(capacity: t * kvWidth)
        v = .allocate(capacity: t * kvWidth)
        qRotated = .allocate(capacity: t * qWidth)
        kRotated = .allocate(capacity: t * kvWidth)
        attention = .allocate(capacity: t * qWidth)
        projected = .allocate(capacity: t * c.width)
        postNormed = .allocate(capacity: t * c.width)
        gate = .allocate(capacity: t * c.ffnWidth)
        up = .allocate(capacity: t * c.ffnWidth)
        activated = .allocate(capacity: t * c.ffnWidth)
    }

    func deallocate() {
        for p in [x, normed, q, k, v, qRotated, kRotated, attention, projected, postNormed, gate, up, activated] {
            p.deallocate()
        }
    }
}

/// One sequence's place in a forward call over the stacked rows of one or more sequences:
/// scratch rows `row ..< row + count`, at cache positions `start ..< start + count` of `cache`.
struct SequenceRows {
    let row: Int
    let count: Int
    let start: Int
    let cache: KVCache
    let rope: Transformer.RoPETables
    let precision: ActivationPrecision

    var segment: RowSegment { RowSegment(start: row, count: count, precision: precision) }
}

extension Transformer {
    /// Runs layer `l` on `s.x` `[T × D]` (positions start ..< start+T) in place, appending K/V to `cache`.
    func layerForward(
        _ l: Int, t: Int, start: Int, cache: KVCache, scratch s: ForwardScratch, rope: RoPETables,
        precision: ActivationPrecision, threads: Int
    ) {
        layerForward(l, sequences: [SequenceRows(row: 0, count: t, start: start, cache: cache, rope: rope, precision: precision)],
                     scratch: s, threads: threads)
    }

    /// Runs layer `l` in place on the stacked rows of `sequences` in `s.x` `[T × D]` (T = Σ count),
    /// appending each sequence's K/V to its cache. Row-wise work runs over all T rows at once,
    /// matrix products through ``Linear/forward(_:segments:_:threads:)``, RoPE, caching and
    /// attention per sequence: each sequence's rows come out as a call with it alone gives them.
    func layerForward(_ l: Int, sequences: [SequenceRows], scratch s: ForwardScratch, threads: Int) {
        let c = configuration, w = weights.layers[l], d = c.width, dh = c.keyLength
        let qWidth = c.headCount * dh, kvWidth = c.kvHeadCount * dh, eps = c.rmsNormEpsilon
        let t = sequences.reduce(0) { $0 + $1.count }, segments = sequences.map(\.segment), sliding = isSlidingWindowLayer(l)
        func project(_ linear: Linear, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
            linear.forward(x, segments: segments, y, threads: threads)
        }

        // Attention: h = norm(x); q, k, v = h·Wᵀ (+ b); [q/k norm]; RoPE; cache k, v; attend.
        RMSNorm.forward(x: s.x, weight: w.attentionNorm, y: s.normed, rows: t, width: d, epsilon: eps, threads: threads)
        project(w.query, s.normed, s.q)
        project(w.key, s.normed, s.k)
        project(w.value, s.normed, s.v)
        if let b = w.queryBias { addBias(b, to: s.q, rows: t) }
        if let b = w.keyBias { addBias(b, to: s.k, rows: t) }
        if let b = w.valueBias { addBias(b, to: s.v, rows: t) }
        if let qn = w.queryNorm, let kn = w.keyNorm {
            RMSNorm.forward(x: s.q, weight: qn, y: s.qRotated, rows: t * c.headCount, width: dh, epsilon: eps, threads: threads)
            RMSNorm.forward(x: s.k, weight: kn, y: s.kRotated, rows: t * c.kvHeadCount, width: dh, epsilon: eps, threads: threads)
        } else {
            s.qRotated.update(from: s.q, count: t * qWidth)
            s.kRotated.update(from: s.k, count: t * kvWidth)
        }
        for q in sequences {
            let rope = q.rope.table(sliding: sliding)
            rope.apply(s.qRotated + q.row * qWidth, rows: q.count, heads: c.headCount, headDim: dh)
            rope.apply(s.kRotated + q.row * kvWidth, rows: q.count, heads: c.kvHeadCount, headDim: dh)
            (q.cache.keys[l] + q.start * kvWidth).update(from: s.kRotated + q.row * kvWidth, count: q.count * kvWidth)
            (q.cache.values[l] + q.start * kvWidth).update(from: s.v + q.row * kvWidth, count: q.count * kvWidth)
            // bf16 products leave BLAS only attention: keep its worker threads out (they spin after each call).
            Attention.forward(shape: attentionShape(layer: l, queries: q.count, start: q.start), q: s.qRotated + q.row * qWidth,
                              keys: q.cache.keys[l], values: q.cache.values[l], out: s.attention + q.row * qWidth, threads: threads,
                              ownThreads: q.precision.gemmFormat == .bfloat16)
        }
        project(w.attentionOutput, s.attention, s.projected)
        s.attentionProjected?.update(from: s.projected, count: t * d)
        addResidual(s.projected, postNorm: w.postAttentionNorm, scratch: s, rows: t, threads: threads)
        s.residualAfterAttention?.update(from: s.x, count: t * d)

        // Feed-forward: h = norm(x); a = act(h·Wgᵀ) ⊙ (h·Wuᵀ); x += a·Wdᵀ [post-norm first].
        RMSNorm.forward(x: s.x, weight: w.ffnNorm, y: s.normed, rows: t, width: d, epsilon: eps, threads: threads)
        project(w.ffnGate, s.normed, s.gate)
        project(w.ffnUp, s.normed, s.up)
        c.architecture.activation.forward(gate: s.gate, up: s.up, out: s.activated, count: t * c.ffnWidth, threads: threads)
        project(w.ffnDown, s.activated, s.projected)
        addResidual(s.projected, postNorm: w.postFFNNorm, scratch: s, rows: t, threads: threads)
    }

    /// The attention call of layer `l` for `queries` new positions from `start`.
    func attentionShape(layer l: Int, queries: Int, start: Int) -> Attention.Shape {
        let c = configuration, sliding = isSlidingWindowLayer(l)
        return Attention.Shape(queries: queries, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.keyLength,
                               queryStart: start, scale: 1 / Float(c.keyLength).squareRoot(),
                               window: sliding ? c.slidingWindow : nil)
    }

    /// x += branch, or x += norm(branch) when the family has post-norms.
    private func addResidual(_ branch: UnsafeMutablePointer<Float>, postNorm: [Float]?, scratch s: ForwardScratch, rows: Int, threads: Int) {
        let d = configuration.width
        if let post = postNorm {
            RMSNorm.forward(x: branch, weight: post, y: s.postNormed, rows: rows, width: d, epsilon: configuration.rmsNormEpsilon,
                            threads: threads)
            Dot.axpy(1, s.postNormed, s.x, count: rows * d)
        } else {
            Dot.axpy(1, branch, s.x, count: rows * d)
        }
    }

    private func addBias(_ bias: [Float], to x: UnsafeMutablePointer<Float>, rows: Int) {
        bias.withUnsafeBufferPointer { b in
            for r in 0..<rows { Dot.axpy(1, b.baseAddress!, x + r * b.count, count: b.count) }
        }
    }
}
