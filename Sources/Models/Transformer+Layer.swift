// Provenance: one decoder block as in llama.cpp llm_build_llama / llm_build_qwen2 / llm_build_gemma3.
import Kernels

/// Activation buffers for one forward call over T positions (allocated once per call).
final class ForwardScratch {
    let x: UnsafeMutablePointer<Float>  // [T × D] residual stream
    let normed: UnsafeMutablePointer<Float>  // [T × D]
    let q: UnsafeMutablePointer<Float>  // [T × H·Dh]
    let k: UnsafeMutablePointer<Float>  // [T × Hkv·Dh]
    let v: UnsafeMutablePointer<Float>  // [T × Hkv·Dh]
    let attention: UnsafeMutablePointer<Float>  // [T × H·Dh]
    let projected: UnsafeMutablePointer<Float>  // [T × D]
    let gate: UnsafeMutablePointer<Float>  // [T × F]
    let up: UnsafeMutablePointer<Float>  // [T × F]

    init(configuration c: ModelConfiguration, positions t: Int) {
        let qWidth = c.headCount * c.keyLength, kvWidth = c.kvHeadCount * c.keyLength
        x = .allocate(capacity: t * c.width)
        normed = .allocate(capacity: t * c.width)
        q = .allocate(capacity: t * qWidth)
        k = .allocate(capacity: t * kvWidth)
        v = .allocate(capacity: t * kvWidth)
        attention = .allocate(capacity: t * qWidth)
        projected = .allocate(capacity: t * c.width)
        gate = .allocate(capacity: t * c.ffnWidth)
        up = .allocate(capacity: t * c.ffnWidth)
    }

    func deallocate() {
        for p in [x, normed, q, k, v, attention, projected, gate, up] { p.deallocate() }
    }
}

extension Transformer {
    func layerForward(
        _ l: Int, t: Int, start: Int, cache: KVCache, scratch s: ForwardScratch, rope: RoPETable, window: Int?,
        precision: ActivationPrecision, threads: Int
    ) {
        let c = configuration, w = weights.layers[l], d = c.width, dh = c.keyLength
        let kvWidth = c.kvHeadCount * dh, eps = c.rmsNormEpsilon

        // Attention: h = norm(x); q, k, v = h·Wᵀ (+ b); [q/k norm]; RoPE; cache k, v; attend.
        RMSNorm.forward(x: s.x, weight: w.attentionNorm, y: s.normed, rows: t, width: d, epsilon: eps)
        w.query.forward(s.normed, rows: t, s.q, threads: threads, precision: precision)
        w.key.forward(s.normed, rows: t, s.k, threads: threads, precision: precision)
        w.value.forward(s.normed, rows: t, s.v, threads: threads, precision: precision)
        if let b = w.queryBias { addBias(b, to: s.q, rows: t) }
        if let b = w.keyBias { addBias(b, to: s.k, rows: t) }
        if let b = w.valueBias { addBias(b, to: s.v, rows: t) }
        if let qn = w.queryNorm, let kn = w.keyNorm {
            RMSNorm.forward(x: s.q, weight: qn, y: s.q, rows: t * c.headCount, width: dh, epsilon: eps)
            RMSNorm.forward(x: s.k, weight: kn, y: s.k, rows: t * c.kvHeadCount, width: dh, epsilon: eps)
        }
        rope.apply(s.q, rows: t, heads: c.headCount, headDim: dh)
        rope.apply(s.k, rows: t, heads: c.kvHeadCount, headDim: dh)
        (cache.keys[l] + start * kvWidth).update(from: s.k, count: t * kvWidth)
        (cache.values[l] + start * kvWidth).update(from: s.v, count: t * kvWidth)
        let shape = Attention.Shape(queries: t, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: dh,
                                    queryStart: start, scale: 1 / Float(dh).squareRoot(), window: window)
        Attention.forward(shape: shape, q: s.q, keys: cache.keys[l], values: cache.values[l], out: s.attention, threads: threads)
        w.attentionOutput.forward(s.attention, rows: t, s.projected, threads: threads, precision: precision)
        if let post = w.postAttentionNorm {
            RMSNorm.forward(x: s.projected, weight: post, y: s.projected, rows: t, width: d, epsilon: eps)
        }
        add(s.projected, into: s.x, count: t * d)

        // Feed-forward: h = norm(x); a = act(h·Wgᵀ) ⊙ (h·Wuᵀ); x += a·Wdᵀ [post-norm first].
        RMSNorm.forward(x: s.x, weight: w.ffnNorm, y: s.normed, rows: t, width: d, epsilon: eps)
        w.ffnGate.forward(s.normed, rows: t, s.gate, threads: threads, precision: precision)
        w.ffnUp.forward(s.normed, rows: t, s.up, threads: threads, precision: precision)
        c.architecture.activation.forward(gate: s.gate, up: s.up, out: s.gate, count: t * c.ffnWidth)
        w.ffnDown.forward(s.gate, rows: t, s.projected, threads: threads, precision: precision)
        if let post = w.postFFNNorm {
            RMSNorm.forward(x: s.projected, weight: post, y: s.projected, rows: t, width: d, epsilon: eps)
        }
        add(s.projected, into: s.x, count: t * d)
    }

    private func addBias(_ bias: [Float], to x: UnsafeMutablePointer<Float>, rows: Int) {
        bias.withUnsafeBufferPointer { b in
            for r in 0..<rows { add(b.baseAddress!, into: x + r * b.count, count: b.count) }
        }
    }

    private func add(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        Dot.axpy(1, source, target, count: count)
    }
}
