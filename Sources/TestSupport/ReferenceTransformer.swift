// Provenance: written from the equations of a pre-norm decoder (RMSNorm, RoPE, causal grouped-query
// softmax attention, gated FFN), with the per-family switches read from ``Architecture``. It shares
// no code with Sources/Kernels or Transformer+Layer.swift on purpose: it is the yardstick they are
// measured against, so it favours obviousness over speed (nested loops, one position at a time).
import Foundation
import Kernels
import Models

/// A naive Float64 forward pass of the decoders ``Transformer`` runs (llama, qwen2, gemma3).
///
/// Input: embeddings `x [T × D]` at positions `0 ..< T` (a whole causal sequence, no cache).
/// Output: the hidden states after the final norm `[T × D]` and the logits `[T × V]`.
///
/// The math, per layer l (⊙ elementwise, `W·v` a matrix-vector product, weights as in the GGUF):
///
///     norm(v, w)  = v / sqrt(mean(v²) + eps) ⊙ w                        (RMSNorm, weights as stored)
///     h           = norm(x_t, attn_norm)
///     q, k, v     = Wq·h (+ bq),  Wk·h (+ bk),  Wv·h (+ bv)             (biases: qwen2)
///     q_h, k_h    = norm(q_h, q_norm), norm(k_h, k_norm) per head         (gemma3)
///     RoPE        angle_i = p · base^(−2i/n), i < n/2, n = rope dims; rotate the pair
///                 (2i, 2i+1) (adjacent, llama) or (i, i + n/2) (half-split, qwen2 and gemma3)
///     attention   query head h reads KV head h / (H/Hkv); scores q·k / sqrt(Dh);
///                 query p sees key s iff s ≤ p and, in a sliding-window layer, p − s < window
///                 (the same window as Kernels' `Attention.Shape.keyRange`: keys p−w+1 … p)
///     a           = Wo · concat_h(softmax(scores) · V)
///     x_t        += norm(a, post_attention_norm) or a                     (post-norms: gemma3)
///     f           = Wd · (act(Wg·g) ⊙ Wu·g), g = norm(x_t, ffn_norm)
///                 act = silu(z) = z / (1 + e^−z)                           (SwiGLU)
///                    or 0.5 z (1 + tanh(√(2/π)(z + 0.044715 z³)))          (GeGLU, tanh GELU)
///     x_t        += norm(f, post_ffw_norm) or f
///
/// then `hidden_t = norm(x_t, output_norm)` and `logits_t = W_out · hidden_t`. Sliding-window
/// layers are every layer except each `globalPeriod`-th (1-based) and use their own RoPE base.
/// Gemma's √D embedding scale is not applied here: it belongs to the input embeddings.
public struct ReferenceTransformer: Sendable {
    /// A dense `[rows × columns]` matrix in Float64, row-major.
    public struct Matrix: Sendable {
        public let rows: Int
        public let columns: Int
        public let values: [Double]

        /// Dequantizes every row of `matrix` (`QuantizedMatrix.dequantizeRow`) and widens it.
        public init(_ matrix: QuantizedMatrix) {
            rows = matrix.rows
            columns = matrix.columns
            var values: [Double] = []
            values.reserveCapacity(rows * columns)
            var row = [Float](repeating: 0, count: columns)
            for r in 0..<rows {
                row.withUnsafeMutableBufferPointer { matrix.dequantizeRow(r, into: $0) }
                values += row.map(Double.init)
            }
            self.values = values
        }

        /// `W · v` for `v` of length `columns`.
        public func times(_ v: [Double]) -> [Double] {
            precondition(v.count == columns, "vector has \(v.count) entries, matrix has \(columns) columns")
            return (0..<rows).map { r in
                var sum = 0.0
                for c in 0..<columns { sum += values[r * columns + c] * v[c] }
                return sum
            }
        }
    }

    /// One block's weights in Float64; optional members follow the architecture's traits.
    struct Layer: Sendable {
        var attentionNorm: [Double]
        var query, key, value: Matrix
        var queryBias, keyBias, valueBias: [Double]?
        var queryNorm, keyNorm: [Double]?
        var attentionOutput: Matrix
        var postAttentionNorm: [Double]?
        var ffnNorm: [Double]
        var ffnGate, ffnUp, ffnDown: Matrix
        var postFFNNorm: [Double]?
        /// Window length, or nil for a layer that sees every earlier position.
        var window: Int?
        var ropeBase: Double
    }

    public let configuration: ModelConfiguration
    let layers: [Layer]
    let outputNorm: [Double]
    let output: Matrix

    /// Copies and widens every weight of `model`.
    public init(_ model: Transformer) {
        let c = model.configuration, arch = c.architecture, w = model.weights
        configuration = c
        func widen(_ v: [Float]) -> [Double] { v.map(Double.init) }
        func required(_ v: [Float]?, _ what: String) -> [Double] {
            guard let v else { preconditionFailure("\(arch) declares \(what) but the weights lack it") }
            return widen(v)
        }
        layers = w.layers.enumerated().map { l, lw in
            // Sliding-window layers: all but every globalPeriod-th (1-based); they use their own RoPE base.
            var window: Int? = nil
            var ropeBase = Double(c.ropeBase)
            if let sliding = arch.slidingWindowLayers, let length = c.slidingWindow, (l + 1) % sliding.globalPeriod != 0 {
                window = length
                ropeBase = Double(sliding.ropeBase)
            }
            return Layer(
                attentionNorm: widen(lw.attentionNorm),
                query: Matrix(lw.query.matrix), key: Matrix(lw.key.matrix), value: Matrix(lw.value.matrix),
                queryBias: arch.hasAttentionBiases ? required(lw.queryBias, "Q bias") : nil,
                keyBias: arch.hasAttentionBiases ? required(lw.keyBias, "K bias") : nil,
                valueBias: arch.hasAttentionBiases ? required(lw.valueBias, "V bias") : nil,
                queryNorm: arch.hasQueryKeyNorms ? required(lw.queryNorm, "Q norm") : nil,
                keyNorm: arch.hasQueryKeyNorms ? required(lw.keyNorm, "K norm") : nil,
                attentionOutput: Matrix(lw.attentionOutput.matrix),
                postAttentionNorm: arch.hasPostNorms ? required(lw.postAttentionNorm, "post-attention norm") : nil,
                ffnNorm: widen(lw.ffnNorm),
                ffnGate: Matrix(lw.ffnGate.matrix), ffnUp: Matrix(lw.ffnUp.matrix), ffnDown: Matrix(lw.ffnDown.matrix),
                postFFNNorm: arch.hasPostNorms ? required(lw.postFFNNorm, "post-FFN norm") : nil,
                window: window, ropeBase: ropeBase)
        }
        outputNorm = widen(w.outputNorm)
        output = Matrix(w.output.matrix)
    }

    /// Whether layer `l` attends over a sliding window (derived from the architecture's traits).
    public func isSlidingWindowLayer(_ l: Int) -> Bool { layers[l].window != nil }

    /// Final-norm hidden states and logits of one forward pass.
    public struct Output: Sendable {
        public var hidden: [Double]  // [T × D]
        public var logits: [Double]  // [T × V]
    }

    /// Runs `embeddings [T × D]` (positions 0 ..< T) through the model.
    public func forward(embeddings: [Double]) -> Output {
        let d = configuration.width
        precondition(embeddings.count % d == 0, "embeddings are not whole rows of width \(d)")
        var x = (0..<(embeddings.count / d)).map { Array(embeddings[($0 * d)..<(($0 + 1) * d)]) }
        for layer in layers { x = block(layer, x) }
        let hidden = x.map { rmsNorm($0, outputNorm) }
        return Output(hidden: hidden.flatMap { $0 }, logits: hidden.flatMap { output.times($0) })
    }

    /// `forward(embeddings:)` on Float32 inputs (widened exactly).
    public func forward(embeddings: [Float]) -> Output { forward(embeddings: embeddings.map(Double.init)) }

    // MARK: - One block

    /// x `[T][D]` → x after attention and feed-forward with their residual adds.
    func block(_ w: Layer, _ x: [[Double]]) -> [[Double]] {
        let c = configuration, t = x.count, dh = c.keyLength
        let heads = c.headCount, kvHeads = c.kvHeadCount, group = heads / kvHeads

        // q[p][h], k[p][g], v[p][g]: per-position, per-head vectors of length Dh.
        var q: [[[Double]]] = [], k: [[[Double]]] = [], v: [[[Double]]] = []
        for p in 0..<t {
            let h = rmsNorm(x[p], w.attentionNorm)
            var qp = splitHeads(add(w.query.times(h), w.queryBias), heads)
            var kp = splitHeads(add(w.key.times(h), w.keyBias), kvHeads)
            if let qn = w.queryNorm, let kn = w.keyNorm {
                qp = qp.map { rmsNorm($0, qn) }
                kp = kp.map { rmsNorm($0, kn) }
            }
            q.append(qp.map { rotate($0, position: p, base: w.ropeBase) })
            k.append(kp.map { rotate($0, position: p, base: w.ropeBase) })
            v.append(splitHeads(add(w.value.times(h), w.valueBias), kvHeads))
        }

        var y = x
        for p in 0..<t {
            var concatenated: [Double] = []
            for head in 0..<heads {
                let g = head / group
                let visible = (0...p).filter { s in w.window.map { p - s < $0 } ?? true }
                let scores = visible.map { s in dot(q[p][head], k[s][g]) / Double(dh).squareRoot() }
                let probabilities = softmax(scores)
                var out = [Double](repeating: 0, count: dh)
                for (s, prob) in zip(visible, probabilities) {
                    for i in 0..<dh { out[i] += prob * v[s][g][i] }
                }
                concatenated += out
            }
            var a = w.attentionOutput.times(concatenated)
            if let post = w.postAttentionNorm { a = rmsNorm(a, post) }
            y[p] = add(y[p], a)
        }

        for p in 0..<t {
            let g = rmsNorm(y[p], w.ffnNorm)
            let gate = w.ffnGate.times(g), up = w.ffnUp.times(g)
            let gated = zip(gate, up).map { activation($0) * $1 }
            var f = w.ffnDown.times(gated)
            if let post = w.postFFNNorm { f = rmsNorm(f, post) }
            y[p] = add(y[p], f)
        }
        return y
    }

    // MARK: - Pieces

    func rmsNorm(_ v: [Double], _ weight: [Double]) -> [Double] {
        precondition(v.count == weight.count)
        let meanSquare = v.reduce(0) { $0 + $1 * $1 } / Double(v.count)
        let inverse = 1 / (meanSquare + Double(configuration.rmsNormEpsilon)).squareRoot()
        return zip(v, weight).map { $0 * inverse * $1 }
    }

    /// Rotates the first `ropeDimensions` entries of one head vector for position `position`.
    func rotate(_ v: [Double], position: Int, base: Double) -> [Double] {
        let n = configuration.ropeDimensions, half = n / 2
        var out = v
        for i in 0..<half {
            let angle = Double(position) * Foundation.pow(base, -2 * Double(i) / Double(n))
            let (a, b) = configuration.architecture.ropePairing == .adjacent ? (2 * i, 2 * i + 1) : (i, i + half)
            out[a] = v[a] * Foundation.cos(angle) - v[b] * Foundation.sin(angle)
            out[b] = v[a] * Foundation.sin(angle) + v[b] * Foundation.cos(angle)
        }
        return out
    }

    func activation(_ z: Double) -> Double {
        switch configuration.architecture.activation {
        case .swiGLU: return z / (1 + Foundation.exp(-z))
        case .geGLUTanh: return 0.5 * z * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (z + 0.044715 * z * z * z)))
        }
    }

    func softmax(_ s: [Double]) -> [Double] {
        let top = s.max() ?? 0
        let e = s.map { Foundation.exp($0 - top) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    func splitHeads(_ v: [Double], _ count: Int) -> [[Double]] {
        let dh = v.count / count
        return (0..<count).map { Array(v[($0 * dh)..<(($0 + 1) * dh)]) }
    }

    func add(_ a: [Double], _ b: [Double]?) -> [Double] {
        guard let b else { return a }
        return zip(a, b).map(+)
    }

    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
}
