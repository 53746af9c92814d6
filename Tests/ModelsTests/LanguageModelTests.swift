import Foundation
import Kernels
import Models
import TestSupport
import Testing

@Suite("LanguageModel loading and generation (tiny models)")
struct LanguageModelTests {
    static func writeTiny(_ arch: Architecture) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-\(arch)-\(UUID().uuidString).gguf").path
        try Data(TinyModel(arch).serialized()).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func agentsOfOneFileShareOneMapping() throws {
        let path = try Self.writeTiny(.qwen2)
        let a = try LanguageModel.load(path: path), b = try LanguageModel.load(path: path)
        #expect(a === b, "the same file must map once")
        #expect(a.transformer.file.storage === b.transformer.file.storage)
    }

    @Test("greedy generation is deterministic and honours max tokens", arguments: [Architecture.llama, .qwen2, .gemma3])
    func greedyGeneration(_ arch: Architecture) throws {
        let model = try LanguageModel(path: try Self.writeTiny(arch))
        let prompt = model.tokenizer.encode("ab", addBOS: model.tokenizer.addBOSByDefault)
        var parameters = GenerationParameters(maxTokens: 6)
        parameters.sampling = .greedy
        func run() -> GenerationResult {
            Generator(model: model).generate(prompt: prompt, cache: KVCache(configuration: model.configuration), parameters: parameters)
        }
        let first = run(), second = run()
        #expect(first.tokens == second.tokens)
        #expect(first.tokens.count <= 6)
        #expect(first.stopReason == .maxTokens || first.stopReason == .endOfGeneration)
    }

    @Test func seededSamplingIsReproducibleAndTopKOneIsGreedy() {
        var rng = SplitMix64(seed: 3)
        let logits = (0..<500).map { _ in rng.nextGaussian() * 3 }
        let greedyID = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
        logits.withUnsafeBufferPointer { l in
            var a = Sampler(SamplingParameters(temperature: 0.8, topK: 0, topP: 1, minP: 0, seed: 9))
            var b = Sampler(SamplingParameters(temperature: 0.8, topK: 0, topP: 1, minP: 0, seed: 9))
            let drawsA = (0..<50).map { _ in a.sample(l, history: []) }
            let drawsB = (0..<50).map { _ in b.sample(l, history: []) }
            #expect(drawsA == drawsB)
            #expect(Set(drawsA).count > 1, "temperature sampling must vary")
            var topOne = Sampler(SamplingParameters(temperature: 1.5, topK: 1, seed: 1))
            #expect((0..<20).allSatisfy { _ in topOne.sample(l, history: []) == greedyID })
            var greedy = Sampler(.greedy)
            #expect(greedy.sample(l, history: []) == greedyID)
            // A strong repetition penalty on the greedy token moves greedy decoding elsewhere.
            var penalized = Sampler(SamplingParameters(repetitionPenalty: 100))
            #expect(penalized.sample(l, history: [greedyID]) != greedyID || logits[Int(greedyID)] <= 0)
        }
    }
}
