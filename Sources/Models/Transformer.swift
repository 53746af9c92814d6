// Provenance: the decoder forward pass shared by llama.cpp's llm_build_llama, llm_build_qwen2 and
// llm_build_gemma3 (src/models/*.cpp) — pre-norm blocks, RoPE on q/k, causal GQA attention,
// gated FFN — with each family's differences read from ``Architecture`` (Architectures/).
import Foundation
import GGUF
import Kernels

/// A frozen decoder-only transformer over a mapped GGUF file.
///
/// `forward(embeddings:…)` is the primary entry (links inject embeddings); token input is
/// `embed` then the same path. Glossary: T new positions, D width, H/Hkv heads, Dh head dim,
/// F FFN width, V vocabulary.
public final class Transformer: Sendable {
    public let configuration: ModelConfiguration
    public let weights: TransformerWeights
    /// Keeps the mapping alive as long as the weights point into it.
    public let file: GGUFFile

    public init(file: GGUFFile) throws(ModelError) {
        let c = try ModelConfiguration(metadata: file.metadata)
        guard c.keyLength == c.valueLength else {
            throw .invalidMetadata(key: "\(c.architecture.rawValue).attention.value_length",
                                   detail: "key and value head sizes differ (\(c.keyLength) vs \(c.valueLength))")
        }
        configuration = c
        weights = try TransformerWeights(file: file, configuration: c)
        self.file = file
    }

    /// Which of the T new positions to return hidden states and logits for.
    public enum Outputs: Sendable, Equatable {
        case none
        case last
        case all
        case positions([Int])  // indices into the T new positions

        func rows(_ t: Int) -> [Int] {
            switch self {
            case .none: []
            case .last: t > 0 ? [t - 1] : []
            case .all: Array(0..<t)
            case .positions(let p): p
            }
        }
    }

    /// Last-layer hidden states (after the final norm) and logits for the requested positions.
    public struct Result: Sendable {
        public var rows: [Int]
        public var hidden: [Float]  // [R × D]
        public var logits: [Float]  // [R × V], empty when not requested
    }

    /// Whether layer `l` uses the sliding window (Gemma-3: all but every 6th layer).
    public func isSlidingWindowLayer(_ l: Int) -> Bool {
        guard configuration.slidingWindow != nil, let layers = configuration.architecture.slidingWindowLayers else { return false }
        return (l + 1) % layers.globalPeriod != 0
    }

    /// The RoPE tables of one forward call: global layers use `rope.freq_base`, sliding-window
    /// layers their family's local base (the same table when the bases agree).
    struct RoPETables {
        let global: RoPETable
        let local: RoPETable

        init(configuration c: ModelConfiguration, positions: Range<Int>) {
            let pairing: RoPETable.Pairing = c.architecture.ropePairing == .adjacent ? .adjacent : .halfSplit
            global = RoPETable(positions: positions, dimensions: c.ropeDimensions, base: c.ropeBase, pairing: pairing)
            local = c.localRopeBase == c.ropeBase ? global
                : RoPETable(positions: positions, dimensions: c.ropeDimensions, base: c.localRopeBase, pairing: pairing)
        }

        func table(sliding: Bool) -> RoPETable { sliding ? local : global }
    }

    /// Writes the input embeddings of `tokens` into `out [T × D]` (Gemma-3 scales by √D).
    public func embed(_ tokens: [Int32], into out: UnsafeMutablePointer<Float>) {
        let d = configuration.width
        let scale: Float = configuration.architecture.scalesEmbeddingsBySqrtWidth ? Float(d).squareRoot() : 1
        for (t, id) in tokens.enumerated() {
            precondition(id >= 0 && Int(id) < configuration.vocabularySize, "token id \(id) outside the vocabulary")
            let row = UnsafeMutableBufferPointer(start: out + t * d, count: d)
            weights.tokenEmbedding.dequantizeRow(Int(id), into: row)
            if scale != 1 { for i in 0..<d { row[i] *= scale } }
        }
    }

    /// The root mean square of the input embeddings' elements over `sample` evenly spaced
    /// vocabulary rows (Gemma-3's √D scale included): the per-element scale of what the model reads.
    public func embeddingRMS(sample: Int = 4096) -> Float {
        let v = configuration.vocabularySize, n = max(1, min(sample, v))
        let ids = (0..<n).map { Int32($0 * v / n) }
        let rows = embeddings(ids)
        let squares = rows.reduce(0.0) { $0 + Double($1) * Double($1) }
        return Float((squares / Double(rows.count)).squareRoot())
    }

    /// Embeddings for `tokens`, `[T × D]`.
    public func embeddings(_ tokens: [Int32]) -> [Float] {
        var out = [Float](repeating: 0, count: tokens.count * configuration.width)
        out.withUnsafeMutableBufferPointer { embed(tokens, into: $0.baseAddress!) }
        return out
    }

    /// Runs T tokens through the model, appending them to `cache`.
    public func forward(tokens: [Int32], cache: KVCache, outputs: Outputs = .last, logits: Bool = true,
                        precision: ActivationPrecision = .float32, threads: Int = Parallel.defaultThreadCount) -> Result {
        let x = embeddings(tokens)
        return x.withUnsafeBufferPointer {
            forward(embeddings: $0.baseAddress!, count: tokens.count, cache: cache, outputs: outputs, logits: logits,
                    precision: precision, threads: threads)
        }
    }

    /// Runs T input embeddings `[T × D]` through the model, appending them to `cache`.
    ///
    /// `precision` applies to single-position steps only (see ``ActivationPrecision``); the
    /// default, `.float32`, is exact and what latent steps and training use.
    public func forward(embeddings: UnsafePointer<Float>, count t: Int, cache: KVCache, outputs: Outputs = .last,
                        logits wantLogits: Bool = true, precision: ActivationPrecision = .float32,
                        threads: Int = Parallel.defaultThreadCount) -> Result {
        forward(batch: [SequenceInput(embeddings: embeddings, count: t, cache: cache, outputs: outputs, logits: wantLogits,
                                      precision: precision)], threads: threads)[0]
    }

    /// One sequence's part of a batched forward call: T input embeddings `[T × D]` (valid for
    /// the call) to append to `cache`, and what to return, as in
    /// ``forward(embeddings:count:cache:outputs:logits:precision:threads:)``.
    public struct SequenceInput {
        public var embeddings: UnsafePointer<Float>
        public var count: Int
        public var cache: KVCache
        public var outputs: Outputs
        public var logits: Bool
        public var precision: ActivationPrecision

        public init(embeddings: UnsafePointer<Float>, count: Int, cache: KVCache, outputs: Outputs = .last, logits: Bool = true,
                    precision: ActivationPrecision = .float32) {
            self.embeddings = embeddings
            self.count = count
            self.cache = cache
            self.outputs = outputs
            self.logits = logits
            self.precision = precision
        }
    }

    /// Runs several sequences, each with its own cache, through the model in one pass over the
    /// weights: their rows are stacked (`[ΣT × D]`), row-wise work and matrix products run once
    /// over the stack, attention per sequence. Result i is bit-for-bit what
    /// ``forward(embeddings:count:cache:outputs:logits:precision:threads:)`` returns for input i
    /// alone; what a batch saves is weight traffic (single-position rows of many sequences share
    /// one read of each matrix). Every cache must be a different object.
    public func forward(batch: [SequenceInput], threads: Int = Parallel.defaultThreadCount) -> [Result] {
        let c = configuration, d = c.width
        guard !batch.isEmpty else { return [] }
        precondition(Set(batch.map { ObjectIdentifier($0.cache) }).count == batch.count, "a batch with one cache twice")
        var sequences: [SequenceRows] = [], total = 0
        for input in batch {
            precondition(input.count >= 0, "negative position count")
            let start = input.cache.count
            input.cache.reserve(start + input.count)
            sequences.append(SequenceRows(row: total, count: input.count, start: start, cache: input.cache,
                                          rope: RoPETables(configuration: c, positions: start..<(start + input.count)),
                                          precision: input.precision))
            total += input.count
        }
        let scratch = ForwardScratch(configuration: c, positions: total)
        defer { scratch.deallocate() }
        for (input, q) in zip(batch, sequences) { (scratch.x + q.row * d).update(from: input.embeddings, count: input.count * d) }
        let live = sequences.filter { $0.count > 0 }
        if !live.isEmpty {
            for l in 0..<c.layerCount { layerForward(l, sequences: live, scratch: scratch, threads: threads) }
        }
        for (input, q) in zip(batch, sequences) { input.cache.advance(by: q.count) }

        // Final norm of the requested rows, then logits for the sequences that want them.
        var results: [Result] = []
        var logitRows: [(sequence: Int, segment: RowSegment)] = [], stacked = 0
        for (i, (input, q)) in zip(batch, sequences).enumerated() {
            let rows = input.outputs.rows(q.count)
            var hidden = [Float](repeating: 0, count: rows.count * d)
            hidden.withUnsafeMutableBufferPointer { out in
                for (r, row) in rows.enumerated() {
                    precondition(row >= 0 && row < q.count, "output row \(row) outside 0..<\(q.count)")
                    RMSNorm.forward(x: scratch.x + (q.row + row) * d, weight: weights.outputNorm, y: out.baseAddress! + r * d,
                                    rows: 1, width: d, epsilon: c.rmsNormEpsilon)
                }
            }
            results.append(Result(rows: rows, hidden: hidden, logits: []))
            if input.logits, !rows.isEmpty {
                logitRows.append((i, RowSegment(start: stacked, count: rows.count, precision: input.precision)))
                stacked += rows.count
            }
        }
        guard !logitRows.isEmpty else { return results }
        let v = c.vocabularySize
        var hidden = [Float](), logits = [Float](repeating: 0, count: stacked * v)
        hidden.reserveCapacity(stacked * d)
        for (i, _) in logitRows { hidden += results[i].hidden }
        hidden.withUnsafeBufferPointer { h in
            logits.withUnsafeMutableBufferPointer { out in
                weights.output.forward(h.baseAddress!, segments: logitRows.map(\.segment), out.baseAddress!, threads: threads)
            }
        }
        for (i, segment) in logitRows {
            results[i].logits = Array(logits[(segment.start * v)..<((segment.start + segment.count) * v)])
        }
        return results
    }
}
