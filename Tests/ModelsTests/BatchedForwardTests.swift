import GGUF
import Kernels
import Models
import TestSupport
import Testing

/// A batched forward over several sequences equals each sequence's own forward, bit for bit.
@Suite("Batched forward (tiny models)")
struct BatchedForwardTests {
    static let cases: [(Architecture, GGMLType)] = [(.llama, .q8_0), (.qwen2, .q8_0), (.gemma3, .q8_0), (.qwen2, .f32), (.llama, .f16)]

    /// One sequence of the batch: a cached history, then new tokens and what to read out.
    struct Step {
        var history: Int
        var new: Int
        var outputs: Transformer.Outputs
        var logits: Bool
        var precision: ActivationPrecision
    }

    static let steps: [Step] = [
        Step(history: 9, new: 1, outputs: .last, logits: true, precision: .int8),  // decode steps of three sequences
        Step(history: 3, new: 1, outputs: .last, logits: true, precision: .int8),
        Step(history: 12, new: 1, outputs: .last, logits: false, precision: .float32),  // a latent step
        Step(history: 0, new: 7, outputs: .all, logits: true, precision: .float32),  // a prefill
        Step(history: 5, new: 2, outputs: .positions([0]), logits: true, precision: .int8),  // a 2-token matvec pair
        Step(history: 4, new: 0, outputs: .none, logits: true, precision: .int8),  // nothing new
        Step(history: 2, new: 4, outputs: .last, logits: true, precision: .int8),  // short prefill (GEMM)
        Step(history: 6, new: 1, outputs: .last, logits: true, precision: .float32),
        Step(history: 7, new: 1, outputs: .last, logits: true, precision: tiled),  // tiled decode steps among the others
        Step(history: 3, new: 2, outputs: .positions([1]), logits: true, precision: tiled),
        Step(history: 10, new: 1, outputs: .last, logits: true, precision: tiled),
    ]

    static let tiled = ActivationPrecision(vectors: .int8Tiled, matrices: .float32)

    @Test("int8-tiled decode runs on the tiles and stays within rounding of int8", arguments: [Architecture.llama, .qwen2, .gemma3])
    func tiledDecode(_ arch: Architecture) throws {
        var tiny = TinyModel(arch)
        tiny.weightType = .q8_0
        let model = try tiny.transformer()
        let c = model.configuration
        let prompt = TransformerInvariantTests.tokens(6, vocabulary: c.vocabularySize, seed: 5)
        var logits: [ActivationPrecision.Vectors: [Float]] = [:]
        for vectors in [ActivationPrecision.Vectors.int8, .int8Tiled, .float32] {
            let cache = KVCache(configuration: c)
            _ = model.forward(tokens: prompt, cache: cache, outputs: .none)
            let next = model.embeddings([7])
            logits[vectors] = next.withUnsafeBufferPointer {
                model.forward(embeddings: $0.baseAddress!, count: 1, cache: cache, outputs: .last, logits: true,
                              precision: ActivationPrecision(vectors: vectors, matrices: .float32)).logits
            }
        }
        let (exact, int8, tiled) = (logits[.float32]!, logits[.int8]!, logits[.int8Tiled]!)
        #expect(tiled != int8, "the tiled sums run in another order (bit-equal logits mean the tiles were not used)")
        let int8Error = zip(int8, exact).map { abs($0 - $1) }.max()!, tiledError = zip(tiled, exact).map { abs($0 - $1) }.max()!
        #expect(tiledError <= 2 * int8Error + 1e-4, "tiled max |Δ| \(tiledError) vs int8's \(int8Error) from fp32")
    }

    @Test("each sequence's hidden states, logits and cache equal its own forward's", arguments: cases)
    func batchEqualsAlone(_ arch: Architecture, _ type: GGMLType) throws {
        var tiny = TinyModel(arch)
        tiny.weightType = type
        let model = try tiny.transformer()
        let c = model.configuration, d = c.width
        var batchCaches: [KVCache] = [], aloneCaches: [KVCache] = [], inputs: [[Float]] = []
        for (i, step) in Self.steps.enumerated() {
            let cache = KVCache(configuration: c)
            if step.history > 0 {
                _ = model.forward(tokens: TransformerInvariantTests.tokens(step.history, vocabulary: c.vocabularySize, seed: UInt64(i)),
                                  cache: cache, outputs: .none)
            }
            batchCaches.append(cache)
            aloneCaches.append(cache.copy())
            inputs.append(model.embeddings(TransformerInvariantTests.tokens(step.new, vocabulary: c.vocabularySize, seed: UInt64(100 + i))))
        }
        let alone = Self.steps.indices.map { i in
            inputs[i].withUnsafeBufferPointer {
                model.forward(embeddings: $0.baseAddress ?? UnsafePointer(bitPattern: 4)!, count: Self.steps[i].new, cache: aloneCaches[i],
                              outputs: Self.steps[i].outputs, logits: Self.steps[i].logits, precision: Self.steps[i].precision)
            }
        }
        let pointers = inputs.map { row -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(row.count, 1))
            p.update(from: row, count: row.count)
            return p
        }
        defer { pointers.forEach { $0.deallocate() } }
        let batched = model.forward(batch: Self.steps.indices.map { i in
            Transformer.SequenceInput(embeddings: pointers[i], count: Self.steps[i].new, cache: batchCaches[i],
                                      outputs: Self.steps[i].outputs, logits: Self.steps[i].logits, precision: Self.steps[i].precision)
        })
        #expect(batched.count == Self.steps.count)
        for i in Self.steps.indices {
            #expect(batched[i].rows == alone[i].rows, "sequence \(i)")
            #expect(batched[i].hidden == alone[i].hidden, "sequence \(i) hidden")
            #expect(batched[i].logits == alone[i].logits, "sequence \(i) logits")
            #expect(batchCaches[i].count == aloneCaches[i].count)
            // The caches continue identically: one more step from each gives the same logits.
            let next = model.embeddings([3])
            let a = next.withUnsafeBufferPointer { model.forward(embeddings: $0.baseAddress!, count: 1, cache: batchCaches[i]).logits }
            let b = next.withUnsafeBufferPointer { model.forward(embeddings: $0.baseAddress!, count: 1, cache: aloneCaches[i]).logits }
            #expect(a == b, "sequence \(i) cache")
        }
        _ = d
    }
}
