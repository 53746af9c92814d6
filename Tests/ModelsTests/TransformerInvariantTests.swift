import Foundation
import GGUF
import Kernels
import Models
import TestSupport
import Testing

/// Invariants of the forward pass on tiny random-weight models of every architecture.
@Suite("Transformer invariants (tiny models)")
struct TransformerInvariantTests {
    /// Prefill uses BLAS GEMM and decode uses matvec: same math, different summation order.
    static let tolerance: Float = 2e-4

    static let architectures: [Architecture] = [.llama, .qwen2, .gemma3]

    static func tokens(_ count: Int, vocabulary: Int, seed: UInt64 = 7) -> [Int32] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Int32(rng.next() % UInt64(vocabulary)) }
    }

    static func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        let scale = max(a.map(abs).max() ?? 0, 1e-6)
        return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    @Test("prefill at once equals token-by-token decode", arguments: architectures)
    func prefillEqualsDecode(_ arch: Architecture) throws {
        let model = try TinyModel(arch).transformer()
        let c = model.configuration
        let ids = Self.tokens(13, vocabulary: c.vocabularySize)  // crosses gemma's window of 5
        let prefill = model.forward(tokens: ids, cache: KVCache(configuration: c), outputs: .all)
        let cache = KVCache(configuration: c)
        var hidden: [Float] = [], logits: [Float] = []
        for id in ids {
            let step = model.forward(tokens: [id], cache: cache, outputs: .last)
            hidden += step.hidden
            logits += step.logits
        }
        #expect(cache.count == ids.count)
        #expect(Self.maxRelativeDifference(prefill.hidden, hidden) < Self.tolerance)
        #expect(Self.maxRelativeDifference(prefill.logits, logits) < Self.tolerance)
    }

    /// A prompt prefill's products run in the precision's ``ActivationPrecision/matrices`` format:
    /// `.int8` (text inference's library default) and `.float32` prefill exactly in fp32 (with a
    /// system BLAS too); `.int8.prefilling(.bfloat16)` rounds its operands to bfloat16 where the
    /// CPU has AVX512-BF16 and falls back to the exact product where it does not.
    @Test("prefill products follow the precision's matrix format", arguments: architectures)
    func prefillFormat(_ arch: Architecture) throws {
        let model = try TinyModel(arch).transformer()
        let c = model.configuration
        let ids = Self.tokens(13, vocabulary: c.vocabularySize)
        let run = { (p: ActivationPrecision) in model.forward(tokens: ids, cache: KVCache(configuration: c), outputs: .all, precision: p) }
        let exact = run(.float32), again = run(.float32), text = run(.int8), bf16 = run(.int8.prefilling(.bfloat16))
        #expect(exact.logits == again.logits)
        #expect(exact.logits == text.logits)
        #expect(exact.hidden == text.hidden)
        if GEMMFormat.bfloat16.isSupported {
            // bf16 operands (8 significant bits): close to fp32, but really rounded.
            let difference = Self.maxRelativeDifference(exact.logits, bf16.logits)
            #expect(difference > 0)
            #expect(difference < 0.05)
            #expect(ActivationPrecision.int8.prefilling(.bfloat16).gemmFormat == .bfloat16)
        } else {
            #expect(exact.logits == bf16.logits)
            #expect(ActivationPrecision.int8.prefilling(.bfloat16).gemmFormat == .float32)
        }
    }

    @Test("precisions code as their names and refuse unknown ones")
    func precisionCoding() throws {
        let all: [ActivationPrecision] = [.float32, .int8, .bfloat16, .int8.prefilling(.bfloat16)]
        let encoded = try JSONEncoder().encode(all)
        #expect(String(decoding: encoded, as: UTF8.self) == #"["float32","int8","bfloat16","int8+bfloat16"]"#)
        #expect(try JSONDecoder().decode([ActivationPrecision].self, from: encoded) == all)
        for bad in [#"["int4"]"#, #"["int8+"]"#, #"["float32+bfloat16"]"#, #"[3]"#] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode([ActivationPrecision].self, from: Data(bad.utf8)) }
        }
    }

    @Test("embeddings in equal ids in", arguments: architectures)
    func embeddingsEqualIds(_ arch: Architecture) throws {
        let model = try TinyModel(arch).transformer()
        let c = model.configuration
        let ids = Self.tokens(6, vocabulary: c.vocabularySize)
        let byIds = model.forward(tokens: ids, cache: KVCache(configuration: c), outputs: .all)
        let embeddings = model.embeddings(ids)
        let byEmbeddings = embeddings.withUnsafeBufferPointer {
            model.forward(embeddings: $0.baseAddress!, count: ids.count, cache: KVCache(configuration: c), outputs: .all)
        }
        #expect(byIds.hidden == byEmbeddings.hidden)
        #expect(byIds.logits == byEmbeddings.logits)
    }

    @Test("chunked prefill equals one prefill; trim and copy branch a sequence", arguments: architectures)
    func cacheOperations(_ arch: Architecture) throws {
        let model = try TinyModel(arch).transformer()
        let c = model.configuration
        let ids = Self.tokens(12, vocabulary: c.vocabularySize)
        let whole = model.forward(tokens: ids, cache: KVCache(configuration: c), outputs: .last)
        let cache = KVCache(configuration: c, capacity: 2)  // forces growth
        _ = model.forward(tokens: Array(ids[0..<5]), cache: cache, outputs: .none)
        let chunked = model.forward(tokens: Array(ids[5...]), cache: cache, outputs: .last)
        #expect(Self.maxRelativeDifference(whole.logits, chunked.logits) < Self.tolerance)

        // Branch after 8 tokens: a copy continues independently of a trimmed original.
        cache.trim(to: 8)
        let branch = cache.copy()
        let a = model.forward(tokens: Array(ids[8...]), cache: cache, outputs: .last)
        let b = model.forward(tokens: Array(ids[8...]), cache: branch, outputs: .last)
        #expect(a.logits == b.logits)
        #expect(Self.maxRelativeDifference(a.logits, whole.logits) < Self.tolerance)
    }

    @Test("quantized weights agree with their fp32 originals", arguments: architectures)
    func quantizedWeights(_ arch: Architecture) throws {
        var spec = TinyModel(arch)
        let reference = try spec.transformer()
        spec.weightType = .q8_0
        let quantized = try spec.transformer()
        let ids = Self.tokens(5, vocabulary: reference.configuration.vocabularySize)
        let r = reference.forward(tokens: ids, cache: KVCache(configuration: reference.configuration))
        let q = quantized.forward(tokens: ids, cache: KVCache(configuration: quantized.configuration))
        // Q8_0 keeps ~2–3 significant digits per weight; logits stay within a few percent.
        #expect(Self.maxRelativeDifference(r.logits, q.logits) < 0.05)
    }

    @Test func slidingWindowLayersFollowGemmaPattern() throws {
        let model = try TinyModel(.gemma3).transformer()
        #expect((0..<6).map(model.isSlidingWindowLayer) == [true, true, true, true, true, false])
        let llama = try TinyModel(.llama).transformer()
        #expect(!llama.isSlidingWindowLayer(0))
    }

    @Test func missingTensorAndUnknownArchitectureAreTypedErrors() throws {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("mamba"))
        #expect(throws: ModelError.unsupportedArchitecture("mamba", supported: ["llama", "qwen2", "gemma3"])) {
            try Transformer(file: try GGUFFile(bytes: writer.serialized()))
        }
        // Drop one tensor from a valid tiny model by renaming it.
        var bytes = TinyModel(.llama).serialized()
        let needle = Array("blk.1.ffn_up.weight".utf8)
        let at = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
        bytes[at + 6] = UInt8(ascii: "x")  // "blk.1.xfn_up.weight"
        #expect(throws: ModelError.missingTensor("blk.1.ffn_up.weight")) { try Transformer(file: try GGUFFile(bytes: bytes)) }
    }
}
