import Foundation
@testable import Agents
import Models
import Testing

/// Stage results shared between runs with identical stages (``StageMemo``): the same answers as
/// computing every stage, with the reuse where the methods' structure puts it.
@Suite("Stage memo: identical stages computed once (tiny models)")
struct StageMemoTests {
    static let question = "What is 2 + 3?"
    static let donor = "Name three primary colours, then multiply 17 by 23 and explain each step."
    static let methods: [InferenceMethod] = [.latent, .latentTuned, .latentZero, .latentShuffled, .text, .single, .singleTuned, .solverInner]

    /// Stages without their times and reuse marks.
    static func plain(_ stages: [StageRecord]) -> [StageRecord] {
        stages.map { var s = $0; s.seconds = 0; s.reused = nil; return s }
    }

    static func runAll(_ runner: GraphRunner) throws -> [String: SystemRunResult] {
        var out: [String: SystemRunResult] = [:]
        for method in methods {
            let results = try runner.run(question: question, method: method, roundCounts: [1, 2, 3], latentSteps: 3,
                                         generation: GenerationParameters(maxTokens: 6), donor: donor)
            for (r, result) in results { out["\(method.rawValue)/\(r)"] = result }
        }
        return out
    }

    @Test("every method's answers and stages equal those computed without the memo; reuse falls where the structure says")
    func sameAnswers() throws {
        let graph = try TinyGraph.sequential()
        let tuned = SoftPrompt(rows: 2, model: graph.nodes[graph.answer].model, seed: 9)
        let plain = try Self.runAll(GraphRunner(graph: graph, softPrompt: tuned))
        let memo = StageMemo()
        let shared = try Self.runAll(GraphRunner(graph: graph, softPrompt: tuned, memo: memo))
        #expect(Set(plain.keys) == Set(shared.keys) && plain.count == Self.methods.count * 3)
        for (key, a) in plain {
            let b = shared[key]!
            #expect(a.text == b.text, "\(key)")
            #expect(Self.plain(a.stages) == Self.plain(b.stages), "\(key)")
        }
        // Controls of the test itself: the methods do differ from each other.
        #expect(Set(["latent", "latent-zero", "latent-shuffled", "latent-tuned"].map { plain["\($0)/3"]!.text }).count >= 3)
        // latent-tuned's soft prompt follows only the answering message: all its rollouts are latent's.
        let tunedStages = shared["latent-tuned/3"]!.stages
        #expect(tunedStages.filter { $0.latentSteps > 0 }.allSatisfy { $0.reused == true })
        #expect(tunedStages.filter { $0.generatedTokens > 0 }.allSatisfy { $0.reused != true }, "its answers see the soft prompt")
        // latent-zero: from round 2 on the solver sees the same zero slots in the same prompt as in round 1.
        let zeroAnswers = (1...3).map { shared["latent-zero/\($0)"]!.stages.last! }
        #expect(zeroAnswers.map(\.round) == [1, 2, 3] && zeroAnswers.map { $0.reused == true } == [false, true, true])
        #expect(shared["latent-zero/3"]!.text == shared["latent-zero/1"]!.text)
        // The single agent's prompt is no other method's.
        #expect(shared["single/1"]!.stages.allSatisfy { $0.reused != true } && shared["latent/1"]!.stages.last!.reused != true)
        #expect(memo.statistics.hits > 0 && memo.byteCount > 0)
    }

    @Test("threads answering through a batching executor wait for a stage another thread is computing, with the same answers")
    func concurrentRuns() throws {
        let graph = try TinyGraph.sequential()
        let tuned = SoftPrompt(rows: 2, model: graph.nodes[graph.answer].model, seed: 9)
        let expected = try Self.runAll(GraphRunner(graph: graph, softPrompt: tuned))
        let memo = StageMemo(), executor = BatchingExecutor(threads: 1)
        let runner = GraphRunner(graph: graph, executor: executor, softPrompt: tuned, memo: memo)
        let results = Results()
        let group = DispatchGroup()
        for method in Self.methods {
            group.enter()
            Thread {
                executor.participate {
                    let out = try? runner.run(question: Self.question, method: method, roundCounts: [1, 2, 3], latentSteps: 3,
                                              generation: GenerationParameters(maxTokens: 6), donor: Self.donor)
                    results.store(method, out)
                }
                group.leave()
            }.start()
        }
        #expect(group.wait(timeout: .now() + 300) == .success, "no deadlock")
        for method in Self.methods {
            let got = try #require(results.get(method))
            for r in 1...3 {
                #expect(got[r]?.text == expected["\(method.rawValue)/\(r)"]!.text, "\(method.rawValue)/\(r)")
                #expect(Self.plain(got[r]!.stages) == Self.plain(expected["\(method.rawValue)/\(r)"]!.stages))
            }
        }
        // Each distinct stage was computed once: the reused ones are all the rest.
        let stats = memo.statistics
        #expect(stats.hits > 0 && stats.misses > 0)
    }

    @Test("a full memo keeps its byte bound, dropping the least recently used results; a result larger than the bound is not kept")
    func eviction() throws {
        let graph = try TinyGraph.sequential()
        let runner = GraphRunner(graph: graph)
        let model = graph.nodes[0].model
        let prompt = try runner.slottedPrompt(0, question: Self.question, round: 1, latents: [:], texts: [:])
        func key(_ steps: Int) -> StageMemo.Key {
            StageMemo.Key(node: 0, kind: .latent, prompt: prompt, width: model.configuration.width, steps: steps, threads: 1, decoding: nil)
        }
        func value(_ x: Float) -> StageMemo.Value {
            StageMemo.Value(record: StageRecord(round: 1, node: "planner", promptTokens: 1, latentInputs: 0, latentSteps: 1, generatedTokens: 0,
                                                seconds: 1), latents: [Float](repeating: x, count: 1000))
        }
        let one = key(1).bytes + value(0).bytes
        let memo = StageMemo(maximumBytes: 2 * one + one / 2)
        var computed = 0
        for s in 1...3 { _ = memo.value(for: key(s), waiting: { $0() }) { computed += 1; return value(Float(s)) } }
        #expect(computed == 3 && memo.byteCount == 2 * one, "the oldest of three was dropped")
        let again = memo.value(for: key(3), waiting: { $0() }) { computed += 1; return value(-1) }
        #expect(again.reused && again.value.latents[0] == 3 && computed == 3)
        _ = memo.value(for: key(1), waiting: { $0() }) { computed += 1; return value(1) }
        #expect(computed == 4, "key 1 was evicted and is computed again")
        let tiny = StageMemo(maximumBytes: 16)
        let big = tiny.value(for: key(1), waiting: { $0() }) { value(5) }
        #expect(!big.reused && tiny.byteCount == 0)
    }

    /// Results gathered from several threads.
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [InferenceMethod: [Int: SystemRunResult]] = [:]
        func store(_ method: InferenceMethod, _ value: [Int: SystemRunResult]?) { lock.withLock { stored[method] = value } }
        func get(_ method: InferenceMethod) -> [Int: SystemRunResult]? { lock.withLock { stored[method] } }
    }
}
