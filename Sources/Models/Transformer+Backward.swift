// Provenance: reverse-mode differentiation of the forward pass in Transformer+Layer.swift with
// respect to the input embeddings only (weights frozen), checked against PyTorch autograd
// (Tools/golden/make_torch_grads.py) and Float64 finite differences.
import Kernels

/// How much of a training forward is kept for the backward.
public enum ActivationMemory: Sendable {
    /// Each layer's input only (activation checkpointing); the backward recomputes each layer
    /// first. (L + 1)·T·D floats: 27 MB for 300 positions of Qwen2.5-0.5B; one extra forward.
    case recompute
    /// Every intermediate the backward needs (≈ 6D + 2F + 3·H·Dh + 4·Hkv·Dh floats per position
    /// and layer: 0.45 GB for 300 positions of Qwen2.5-0.5B); no recomputation.
    case keep
}

/// What a training forward keeps for ``Transformer/backward(tape:hiddenGradient:embeddingGradient:threads:)``.
public final class ForwardTape: @unchecked Sendable {  // written once by forwardForTraining, then only read
    /// T: the trained positions P ..< P + T of one sequence.
    public let positions: Int
    /// P: positions before the trained ones, held constant in the tape's cache (0 without a prefix).
    public let start: Int
    public let memory: ActivationMemory
    /// How the forward's matrix products ran; the backward's input-gradient products and any
    /// recomputed layers run the same way (``ActivationPrecision/gemmFormat``).
    public let precision: ActivationPrecision
    let width: Int
    let layerCount: Int
    /// `[(L + 1) × T × D]`: the input of layer l at index l, the final residual (before the output
    /// norm) at index L.
    let checkpoints: UnsafeMutablePointer<Float>
    /// With `.keep`: each layer's activations.
    var layers: [(scratch: ForwardScratch, buffers: BackwardBuffers)] = []
    /// Keys/values of the prefix and the trained positions.
    var cache: KVCache?
    /// A `.keep` tape's activations are overwritten by its backward, so it supports one backward.
    var consumed = false
    private let layerBytes: Int

    init(configuration c: ModelConfiguration, positions: Int, start: Int, memory: ActivationMemory, precision: ActivationPrecision) {
        self.positions = positions
        self.start = start
        self.memory = memory
        self.precision = precision
        width = c.width
        layerCount = c.layerCount
        checkpoints = .allocate(capacity: (layerCount + 1) * positions * width)
        let qWidth = c.headCount * c.keyLength, kvWidth = c.kvHeadCount * c.keyLength
        layerBytes = positions * 4 * (6 * c.width + 3 * c.ffnWidth + 4 * qWidth + 3 * kvWidth) + (start + positions) * 4 * 2 * kvWidth
    }

    deinit {
        checkpoints.deallocate()
        for layer in layers {
            layer.scratch.deallocate()
            layer.buffers.deallocate()
        }
    }

    func checkpoint(_ l: Int) -> UnsafeMutablePointer<Float> { checkpoints + l * positions * width }

    /// Bytes held.
    public var byteCount: Int {
        (layerCount + 1) * positions * width * MemoryLayout<Float>.size + (memory == .keep ? layerCount * layerBytes : 0)
            + (cache?.byteCount ?? 0)
    }
}

extension Transformer {
    /// Forward over one whole sequence (positions 0 ..< N, no cache) that keeps a tape for
    /// ``backward(tape:hiddenGradient:embeddingGradient:threads:)`` of positions P ..< N, P =
    /// `trainedFrom`. Positions before P get a plain forward into the tape's KV cache and are
    /// constants for the backward (nothing flows into them): work no gradient needs, when the first
    /// trainable input sits at P, is skipped this way. Returns the post-final-norm hidden states of
    /// the T = N − P trained positions `[T × D]`, identical to
    /// ``forward(embeddings:count:cache:outputs:logits:precision:threads:)`` with `outputs: .all`
    /// up to float rounding (bit-identical with P = 0). `prefilled`, a cache already holding
    /// exactly positions 0 ..< P of these embeddings (e.g. left by a rollout, then trimmed), saves
    /// that plain forward; the tape takes it over. `precision` chooses the matrix products'
    /// format (``ActivationPrecision/gemmFormat``: fp32, or bfloat16 with ``ActivationPrecision/bfloat16``
    /// where the CPU has it), for this forward, the prefix's and the backward's.
    public func forwardForTraining(
        embeddings: UnsafePointer<Float>, count n: Int, trainedFrom p: Int = 0, prefilled: KVCache? = nil,
        memory: ActivationMemory = .recompute, precision: ActivationPrecision = .float32,
        threads: Int = Parallel.defaultThreadCount
    ) -> (tape: ForwardTape, hidden: [Float]) {
        precondition(p >= 0 && p < n, "trained positions \(p) ..< \(n) are empty or out of range")
        let c = configuration, d = c.width, t = n - p
        let cache: KVCache
        if let prefilled {
            precondition(prefilled.count == p, "a prefilled cache holds \(prefilled.count) positions, the untrained prefix \(p)")
            prefilled.reserve(n)
            cache = prefilled
        } else {
            cache = KVCache(configuration: c, capacity: n)
            if p > 0 {
                _ = forward(embeddings: embeddings, count: p, cache: cache, outputs: .none, logits: false, precision: precision,
                            threads: threads)
            }
        }
        let tape = ForwardTape(configuration: c, positions: t, start: p, memory: memory, precision: precision)
        let shared = memory == .recompute ? ForwardScratch(configuration: c, positions: t) : nil
        defer { shared?.deallocate() }
        var x = embeddings + p * d
        let rope = RoPETables(configuration: c, positions: p..<(p + t))
        for l in 0..<c.layerCount {
            tape.checkpoint(l).update(from: x, count: t * d)
            let scratch = shared ?? tape.keepLayer(configuration: c)
            scratch.x.update(from: x, count: t * d)
            layerForward(l, t: t, start: p, cache: cache, scratch: scratch, rope: rope,
                         precision: precision, threads: threads)
            x = UnsafePointer(scratch.x)
        }
        cache.advance(by: t)
        tape.cache = cache
        tape.checkpoint(c.layerCount).update(from: x, count: t * d)
        var hidden = [Float](repeating: 0, count: t * d)
        hidden.withUnsafeMutableBufferPointer {
            RMSNorm.forward(x: x, weight: weights.outputNorm, y: $0.baseAddress!, rows: t, width: d,
                            epsilon: c.rmsNormEpsilon)
        }
        return (tape, hidden)
    }

    /// Back-propagates `hiddenGradient` = dL/dH `[T × D]` (H: the post-final-norm hidden states
    /// of ``forwardForTraining(embeddings:count:memory:threads:)``; zero rows where L does not
    /// depend on H) to `embeddingGradient` = dL/dX `[T × D]` (written, not accumulated). With a
    /// `.recompute` tape each layer is first recomputed from its checkpoint (any number of
    /// backwards); a `.keep` tape allows one.
    public func backward(
        tape: ForwardTape, hiddenGradient: UnsafePointer<Float>, embeddingGradient g: UnsafeMutablePointer<Float>,
        threads: Int = Parallel.defaultThreadCount
    ) {
        let c = configuration, t = tape.positions, p = tape.start, d = c.width, eps = c.rmsNormEpsilon
        precondition(tape.width == d && tape.layerCount == c.layerCount, "tape from another model")
        // g is the running gradient of the residual stream, dL/dx at the current depth.
        RMSNorm.backward(x: tape.checkpoint(c.layerCount), weight: weights.outputNorm, dy: hiddenGradient, dx: g,
                         rows: t, width: d, epsilon: eps, threads: threads)

        let recompute = tape.memory == .recompute
        precondition(recompute || !tape.consumed, "a .keep tape supports one backward (its activations are overwritten)")
        tape.consumed = true
        let cache = tape.cache!  // set by every training forward
        let shared = recompute ? ForwardTape.makeLayer(configuration: c, positions: t, start: p) : nil
        defer {
            shared?.scratch.deallocate()
            shared?.buffers.deallocate()
        }
        let rope = RoPETables(configuration: c, positions: p..<(p + t))
        for l in (0..<c.layerCount).reversed() {
            let table = rope.table(sliding: isSlidingWindowLayer(l))
            let (s, buffers) = shared ?? tape.layers[l]
            if recompute {
                s.x.update(from: tape.checkpoint(l), count: t * d)
                layerForward(l, t: t, start: p, cache: cache, scratch: s, rope: rope, precision: tape.precision, threads: threads)
            }
            layerBackward(l, t: t, start: p, input: tape.checkpoint(l), cache: cache, scratch: s, buffers: buffers, rope: table,
                          precision: tape.precision, gradient: g, threads: threads)
        }
    }

    /// Given g = dL/d(layer output), the layer's `input` and its recomputed activations in `s`,
    /// replaces g with dL/d(layer input).
    private func layerBackward(
        _ l: Int, t: Int, start p: Int, input: UnsafePointer<Float>, cache: KVCache, scratch s: ForwardScratch, buffers b: BackwardBuffers,
        rope: RoPETable, precision: ActivationPrecision,
        gradient g: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let c = configuration, w = weights.layers[l], d = c.width, dh = c.keyLength, eps = c.rmsNormEpsilon
        let kvWidth = c.kvHeadCount * dh

        // FFN half: x_out = x_mid + [post](down(act(gate(n2)) ⊙ up(n2))), n2 = norm(x_mid).
        let dFFN = postNormBackward(w.postFFNNorm, input: s.projected, gradient: g, into: b.branch, rows: t, threads: threads)
        w.ffnDown.backwardInput(dFFN, rows: t, b.activated, precision: precision, threads: threads)
        c.architecture.activation.backward(gate: s.gate, up: s.up, dOut: b.activated, dGate: s.gate, dUp: s.up,
                                           count: t * c.ffnWidth, threads: threads)
        w.ffnGate.backwardInput(s.gate, rows: t, b.normed, precision: precision, threads: threads)
        w.ffnUp.backwardInput(s.up, rows: t, b.normed, accumulate: true, precision: precision, threads: threads)
        RMSNorm.backward(x: b.residualAfterAttention, weight: w.ffnNorm, dy: b.normed, dx: g, rows: t, width: d,
                         epsilon: eps, accumulate: true, threads: threads)

        // Attention half: x_mid = x + [post](o(attend(rope(q), rope(k), v))), q, k, v from n1 = norm(x).
        let dAttentionOut = postNormBackward(w.postAttentionNorm, input: b.attentionProjected, gradient: g,
                                             into: b.branch, rows: t, threads: threads)
        w.attentionOutput.backwardInput(dAttentionOut, rows: t, b.attention, precision: precision, threads: threads)
        // dK/dV cover the prefix's keys too (P + T rows); the prefix rows are constants and dropped.
        b.dKeys.update(repeating: 0, count: (p + t) * kvWidth)
        b.dValues.update(repeating: 0, count: (p + t) * kvWidth)
        Attention.backward(shape: attentionShape(layer: l, queries: t, start: p), q: s.qRotated, keys: cache.keys[l],
                           values: cache.values[l], out: s.attention, dOut: b.attention,
                           dQ: b.dQueries, dKeys: b.dKeys, dValues: b.dValues)
        let dKeys = b.dKeys + p * kvWidth, dValues = b.dValues + p * kvWidth
        rope.applyBackward(b.dQueries, rows: t, heads: c.headCount, headDim: dh)
        rope.applyBackward(dKeys, rows: t, heads: c.kvHeadCount, headDim: dh)
        if let qn = w.queryNorm, let kn = w.keyNorm {
            RMSNorm.backward(x: s.q, weight: qn, dy: b.dQueries, dx: b.dQueries, rows: t * c.headCount, width: dh, epsilon: eps, threads: threads)
            RMSNorm.backward(x: s.k, weight: kn, dy: dKeys, dx: dKeys, rows: t * c.kvHeadCount, width: dh, epsilon: eps, threads: threads)
        }
        w.query.backwardInput(b.dQueries, rows: t, b.normed, precision: precision, threads: threads)
        w.key.backwardInput(dKeys, rows: t, b.normed, accumulate: true, precision: precision, threads: threads)
        w.value.backwardInput(dValues, rows: t, b.normed, accumulate: true, precision: precision, threads: threads)
        RMSNorm.backward(x: input, weight: w.attentionNorm, dy: b.normed, dx: g, rows: t, width: d, epsilon: eps,
                         accumulate: true, threads: threads)
    }

    /// dL/d(branch before its post-norm): through the norm when the family has one, else g itself.
    private func postNormBackward(
        _ norm: [Float]?, input: UnsafePointer<Float>, gradient g: UnsafeMutablePointer<Float>,
        into out: UnsafeMutablePointer<Float>, rows: Int, threads: Int
    ) -> UnsafeMutablePointer<Float> {
        guard let norm else { return g }
        norm.withUnsafeBufferPointer {
            RMSNorm.backward(x: input, weight: $0.baseAddress!, dy: g, dx: out, rows: rows, width: configuration.width,
                             epsilon: configuration.rmsNormEpsilon, threads: threads)
        }
        return out
    }
}

extension ForwardTape {
    /// A layer's activation scratch wired to its backward buffers (which receive x_mid and the
    /// attention branch's pre-norm output).
    static func makeLayer(configuration c: ModelConfiguration, positions t: Int, start p: Int) -> (scratch: ForwardScratch, buffers: BackwardBuffers) {
        let scratch = ForwardScratch(configuration: c, positions: t)
        let buffers = BackwardBuffers(configuration: c, positions: t, keyPositions: p + t)
        scratch.residualAfterAttention = buffers.residualAfterAttention
        scratch.attentionProjected = buffers.attentionProjected
        return (scratch, buffers)
    }

    /// Appends a kept layer and returns its scratch.
    func keepLayer(configuration c: ModelConfiguration) -> ForwardScratch {
        let layer = Self.makeLayer(configuration: c, positions: positions, start: start)
        layers.append(layer)
        return layer.scratch
    }
}

/// Gradient buffers of one backward call over T positions (allocated once, reused by every layer).
final class BackwardBuffers {
    let residualAfterAttention: UnsafeMutablePointer<Float>  // [T × D] forward value x_mid
    let attentionProjected: UnsafeMutablePointer<Float>  // [T × D] forward value before the post-norm
    let branch: UnsafeMutablePointer<Float>  // [T × D] gradient before a post-norm
    let normed: UnsafeMutablePointer<Float>  // [T × D] gradient of a pre-norm output
    let activated: UnsafeMutablePointer<Float>  // [T × F]
    let attention: UnsafeMutablePointer<Float>  // [T × H·Dh]
    let dQueries: UnsafeMutablePointer<Float>  // [T × H·Dh]
    let dKeys: UnsafeMutablePointer<Float>  // [(P + T) × Hkv·Dh]: a constant prefix's keys too
    let dValues: UnsafeMutablePointer<Float>  // [(P + T) × Hkv·Dh]

    init(configuration c: ModelConfiguration, positions t: Int, keyPositions n: Int) {
        let qWidth = c.headCount * c.keyLength, kvWidth = c.kvHeadCount * c.keyLength
        residualAfterAttention = .allocate(capacity: t * c.width)
        attentionProjected = .allocate(capacity: t * c.width)
        branch = .allocate(capacity: t * c.width)
        normed = .allocate(capacity: t * c.width)
        activated = .allocate(capacity: t * c.ffnWidth)
        attention = .allocate(capacity: t * qWidth)
        dQueries = .allocate(capacity: t * qWidth)
        dKeys = .allocate(capacity: n * kvWidth)
        dValues = .allocate(capacity: n * kvWidth)
    }

    func deallocate() {
        for p in [residualAfterAttention, attentionProjected, branch, normed, activated, attention, dQueries, dKeys, dValues] {
            p.deallocate()
        }
    }
}
