import Foundation
import Kernels
@testable import Agents
@testable import Models
import RoleData
import Testing

@Suite("Prompt-prefix reuse")
struct PrefixCacheTests {
    static let questions = ["What is 2 + 3?", "What is 7 - 4?"]

    /// Every method's answers and stage accounting, for each question, at 1–3 rounds.
    static func answers(_ runner: GraphRunner) throws -> [String] {
        var all: [String] = []
        for question in questions {
            for method in [InferenceMethod.latent, .latentZero, .text, .single, .solverInner] {
                let results = try runner.run(question: question, method: method, roundCounts: [1, 2, 3], latentSteps: 3,
                                             generation: GenerationParameters(maxTokens: 6), answerRetry: true)
                for r in results.keys.sorted() {
                    let result = results[r]!
                    all.append("\(method) \(r): \(result.text) | "
                               + result.stages.map { "\($0.node)/\($0.round) \($0.promptTokens) \($0.latentInputs) \($0.generatedTokens)" }.joined(separator: ", "))
                }
            }
        }
        return all
    }

    @Test("answers are the same without a prefix cache, on a cold one and on a warm one, and the warm run hits")
    func sameAnswers() throws {
        let graph = try TinyGraph.sequential()
        let plain = try Self.answers(GraphRunner(graph: graph))
        let prefixes = PrefixCache()
        let runner = GraphRunner(graph: graph, prefixes: prefixes)
        let cold = try Self.answers(runner)
        let afterCold = prefixes.statistics
        let warm = try Self.answers(runner)
        let afterWarm = prefixes.statistics
        #expect(cold == plain)
        #expect(warm == plain)
        #expect(afterCold.hits > 0, "methods on one question share prefixes: \(afterCold)")
        #expect(afterWarm.misses == afterCold.misses, "a second pass finds every prefix: \(afterWarm) after \(afterCold)")
        #expect(afterWarm.hits > afterCold.hits)
    }

    @Test("a continued comparison refuses to mix answers with and without prefix reuse")
    func settingsRecordReuse() throws {
        var on = Comparison.Settings(system: "s.json", data: "q.jsonl", latentSteps: 4, maxTokens: 8, temperature: 0, seed: 0,
                                     answerRetry: true, prompts: nil, links: nil)
        let off = on
        on.prefixReuse = true
        #expect(on.difference(from: off).contains("prefix reuse"))
        #expect(off.difference(from: off).isEmpty)
        let decoded = try JSONDecoder().decode(Comparison.Settings.self, from: try JSONEncoder().encode(on))
        #expect(decoded.prefixReuse == true && decoded.difference(from: on).isEmpty)
    }

    @Test("a continued comparison refuses to mix answers of fp32 and bf16 text prefill")
    func settingsRecordTextPrefill() throws {
        let fp32 = Comparison.Settings(system: "s.json", data: "q.jsonl", latentSteps: 4, maxTokens: 8, temperature: 0, seed: 0,
                                       answerRetry: true, prompts: nil, links: nil)
        var bf16 = fp32
        bf16.textPrefill = "bfloat16"
        #expect(bf16.difference(from: fp32) == "text prefill GEMM (--prefill) bfloat16 → float32")
        #expect(fp32.difference(from: bf16) == "text prefill GEMM (--prefill) float32 → bfloat16")
        #expect(bf16.textPrefillFormat == .bfloat16 && fp32.textPrefillFormat == .float32)
        var set = fp32
        set.textPrefillFormat = .bfloat16
        #expect(set.textPrefill == "bfloat16")
        set.textPrefillFormat = .float32
        #expect(set.textPrefill == nil)
        #expect(bf16.summary.hasSuffix("; text prefill in bfloat16") && !fp32.summary.contains("prefill"))
        let decoded = try JSONDecoder().decode(Comparison.Settings.self, from: try JSONEncoder().encode(bf16))
        #expect(decoded.textPrefill == "bfloat16" && decoded.difference(from: bf16).isEmpty)
        let old = try JSONDecoder().decode(Comparison.Settings.self, from: try JSONEncoder().encode(fp32))
        #expect(old.textPrefill == nil && old.difference(from: fp32).isEmpty)
    }

    @Test("a continued comparison refuses to mix answers of int8 and int8-tiled text decode")
    func settingsRecordTextDecode() throws {
        let int8 = Comparison.Settings(system: "s.json", data: "q.jsonl", latentSteps: 4, maxTokens: 8, temperature: 0, seed: 0,
                                       answerRetry: true, prompts: nil, links: nil)
        var tiled = int8
        tiled.textDecodeVectors = .int8Tiled
        #expect(tiled.textDecode == "int8-tiled" && tiled.textDecodeVectors == .int8Tiled && int8.textDecodeVectors == .int8)
        #expect(tiled.difference(from: int8) == "text decode (--decode) int8-tiled → int8")
        #expect(tiled.summary.hasSuffix("; text decode int8-tiled") && !int8.summary.contains("decode"))
        let decoded = try JSONDecoder().decode(Comparison.Settings.self, from: try JSONEncoder().encode(tiled))
        #expect(decoded.textDecodeVectors == .int8Tiled && decoded.difference(from: tiled).isEmpty)
        var back = tiled
        back.textDecodeVectors = .int8
        #expect(back.textDecode == nil && back.difference(from: int8).isEmpty)
        // Settings files written before the field existed decode as int8.
        let old = try JSONDecoder().decode(Comparison.Settings.self, from: try JSONEncoder().encode(int8))
        #expect(old.textDecodeVectors == .int8)
    }

    @Test("a continued comparison refuses to mix answers of different fp32 GEMMs; files without the field match any")
    func settingsRecordExactGEMM() throws {
        var openblas = Comparison.Settings(system: "s.json", data: "q.jsonl", latentSteps: 4, maxTokens: 8, temperature: 0, seed: 0,
                                           answerRetry: true, prompts: nil, links: nil)
        var builtin = openblas
        openblas.exactGEMM = Comparison.Settings.name(of: .openBLAS(coreType: "SkylakeX"))
        builtin.exactGEMM = Comparison.Settings.name(of: .builtin)
        #expect(openblas.exactGEMM == "openblas SkylakeX" && builtin.exactGEMM == "builtin")
        #expect(openblas.difference(from: builtin).hasPrefix("fp32 GEMM openblas SkylakeX → builtin (to match, install libopenblas0"))
        #expect(builtin.difference(from: openblas).hasSuffix("(to match, set RMAS_BLAS=builtin)"))
        var haswell = openblas
        haswell.exactGEMM = Comparison.Settings.name(of: .openBLAS(coreType: "Haswell"))
        #expect(openblas.difference(from: haswell) == "fp32 GEMM openblas SkylakeX → openblas Haswell (to match, run with OPENBLAS_CORETYPE=SkylakeX)")
        var old = openblas
        old.exactGEMM = nil
        #expect(old.difference(from: builtin).isEmpty && builtin.difference(from: old).isEmpty)
        let decoded = try JSONDecoder().decode(Comparison.Settings.self, from: try JSONEncoder().encode(openblas))
        #expect(decoded.exactGEMM == "openblas SkylakeX" && decoded.difference(from: openblas).isEmpty)
    }

    /// Records the precision of every forward call of more than two positions (prefill chunks).
    final class PrecisionSpy: ForwardExecutor, @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [ActivationPrecision] = []
        var precisions: Set<ActivationPrecision> { lock.withLock { Set(seen) } }

        func forward(_ transformer: Transformer, _ input: Transformer.SequenceInput, threads: Int) -> Transformer.Result {
            if input.count > Linear.matvecPositionLimit { lock.withLock { seen.append(input.precision) } }
            return transformer.forward(batch: [input], threads: threads)[0]
        }
    }

    @Test("text stages prefill in the generation's matrix format, latent rollouts in fp32; prefixes are kept per format",
          arguments: [false, true])
    func textPrefillFormat(reusePrefixes: Bool) throws {
        let graph = try TinyGraph.sequential()
        let prefixes = reusePrefixes ? PrefixCache() : nil
        let bf16 = ActivationPrecision.int8.prefilling(.bfloat16)
        var answers: [ActivationPrecision: [String]] = [:]
        for precision in [ActivationPrecision.int8, bf16] {
            let spy = PrecisionSpy()
            let runner = GraphRunner(graph: graph, executor: spy, prefixes: prefixes)
            var generation = GenerationParameters(maxTokens: 6)
            generation.precision = precision
            for method in [InferenceMethod.text, .single, .latent] {
                answers[precision, default: []].append(try runner.run(question: Self.questions[0], method: method, rounds: 2, latentSteps: 3,
                                                                      generation: generation).text)
            }
            // Prompt forwards run under the prompt precision (fp32 tails); the latent agents' rollouts in fp32.
            #expect(spy.precisions == [.float32, precision.prompt], "\(precision.name): \(spy.precisions)")
        }
        let plainBF16 = try [InferenceMethod.text, .single, .latent].map { method in
            var generation = GenerationParameters(maxTokens: 6)
            generation.precision = bf16
            return try GraphRunner(graph: graph).run(question: Self.questions[0], method: method, rounds: 2, latentSteps: 3,
                                                     generation: generation).text
        }
        // With prefixes the bf16 pass must not restore the fp32 pass's rows: it equals a run without reuse.
        #expect(answers[bf16] == plainBF16)
    }

    @Test("rows come back as stored, per model and exact token sequence; least recently used go first past the budget")
    func storeRestoreEvict() throws {
        let model = try TinyGraph.sequential().nodes[0].model, transformer = model.transformer
        let tokens: [Int32] = [1, 2, 3, 4, 5]
        let cache = KVCache(configuration: model.configuration, capacity: 8)
        _ = transformer.embeddings(tokens).withUnsafeBufferPointer {
            transformer.forward(embeddings: $0.baseAddress!, count: tokens.count, cache: cache, outputs: .none, logits: false, threads: 1)
        }
        let stored = cache.rows(tokens.count)
        let entryBytes = 2 * stored.keys.reduce(0) { $0 + $1.count } * 4
        let prefixes = PrefixCache(maximumBytes: 2 * entryBytes)
        prefixes.store(transformer, tokens: tokens, from: cache)
        let restored = KVCache(configuration: model.configuration, capacity: 2)
        #expect(prefixes.restore(transformer, tokens: tokens, into: restored))
        #expect(restored.count == tokens.count)
        let back = restored.rows(tokens.count)
        #expect(back.keys == stored.keys && back.values == stored.values)
        #expect(!prefixes.restore(transformer, tokens: Array(tokens.dropLast()), into: KVCache(configuration: model.configuration)))
        #expect(!prefixes.restore(transformer, tokens: tokens, precision: .bfloat16, into: KVCache(configuration: model.configuration)),
                "rows run in one format are not served for another")
        // Two more entries of the same size: the budget holds two, and the least recently used goes.
        prefixes.store(transformer, tokens: [9, 9, 9, 9, 9], from: cache)
        #expect(prefixes.restore(transformer, tokens: tokens, into: KVCache(configuration: model.configuration)))  // now the newest use
        prefixes.store(transformer, tokens: [8, 8, 8, 8, 8], from: cache)
        #expect(prefixes.byteCount <= 2 * entryBytes)
        #expect(prefixes.restore(transformer, tokens: tokens, into: KVCache(configuration: model.configuration)))
        #expect(!prefixes.restore(transformer, tokens: [9, 9, 9, 9, 9], into: KVCache(configuration: model.configuration)))
        let tiny = PrefixCache(maximumBytes: entryBytes - 1)
        tiny.store(transformer, tokens: tokens, from: cache)
        #expect(tiny.byteCount == 0, "an entry over the whole budget is not kept")
    }
}
