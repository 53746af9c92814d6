import Foundation
@testable import Agents
import RoleData
import Testing
import Training

/// The comparison harness called as a library (what a server or notebook would do), no executable.
@Suite("Comparison harness (library)")
struct ComparisonHarnessTests {
    static func comparison(_ output: URL, maxTokens: Int = 4, methods: Set<InferenceMethod> = [.latent, .text, .single],
                           inFlight: Int = 1, scSamples: Int = 3) throws -> Comparison {
        let rows = (0..<3).map { n in DataRow(question: "\(n) + 2?", fields: ["final_answer": "\(n + 2)"]) }
        let questions = try Comparison.questions(rows, offset: 0, limit: nil)
        let settings = Comparison.Settings(system: "tiny", data: "rows", latentSteps: 2, maxTokens: maxTokens, temperature: 0, seed: 0,
                                           answerRetry: true, prompts: nil, links: nil,
                                           selfConsistency: methods.contains(.selfConsistency) ? .init(samples: scSamples, temperature: 0.8) : nil)
        return Comparison(plan: Comparison.plan(methods: methods, rounds: [1, 2]), questions: questions,
                          settings: settings, output: output, threads: 1, inFlight: inFlight, machine: "test", command: "test")
    }

    @Test("answers every (question, method, rounds), resumes without redoing any, and refuses other settings")
    func runResumeRefuse() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-harness-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let graph = try TinyGraph.sequential()
        let first = try Self.comparison(output)
        #expect(first.plan.map { "\($0.method.rawValue)/\($0.rounds)" } == ["single/1", "latent/1", "text/1", "latent/2", "text/2"])
        var made = 0, reports = 0
        let markdown = try first.run(recorded: try first.recorded(), makeRunner: { made += 1; return GraphRunner(graph: graph) }) { _ in reports += 1 }
        #expect(made == 1 && reports == 15 && markdown.contains("| latent | 2 |"))
        let outcomes = try JSONLines.read(QuestionOutcome.self, from: output.appendingPathComponent("outcomes.jsonl"), decoder: ProjectJSON.decoder())
        #expect(outcomes.count == 15 && Set(outcomes.map { "\($0.index)\($0.method)\($0.rounds)" }).count == 15)
        // A continuation finds everything recorded and never builds a runner.
        let again = try Self.comparison(output)
        let recorded = try again.recorded()
        #expect(recorded.count == 15)
        _ = try again.run(recorded: recorded, makeRunner: { Issue.record("no answer was pending"); return GraphRunner(graph: graph) })
        // Other settings are refused before anything is written.
        #expect(throws: AgentError.self) { try Self.comparison(output, maxTokens: 5).recorded() }
        #expect(try JSONLines.read(QuestionOutcome.self, from: output.appendingPathComponent("outcomes.jsonl"), decoder: ProjectJSON.decoder()).count == 15)
    }

    @Test("answering several questions at once with batched forwards records the same outcomes as one at a time")
    func batchedEqualsSerial() throws {
        let graph = try TinyGraph.sequential(weightType: .q8_0)  // quantized: decode takes the 8-bit batched kernels
        let methods: Set<InferenceMethod> = [.latent, .text, .single, .latentZero, .latentShuffled, .solverInner, .selfConsistency]
        var outcomes: [[QuestionOutcome]] = []
        for inFlight in [1, 5] {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-harness-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: output) }
            let comparison = try Self.comparison(output, maxTokens: 6, methods: methods, inFlight: inFlight)
            var reports = 0
            _ = try comparison.run(recorded: try comparison.recorded(), makeRunner: { GraphRunner(graph: graph) }) { _ in reports += 1 }
            let recorded = try JSONLines.read(QuestionOutcome.self, from: output.appendingPathComponent("outcomes.jsonl"),
                                              decoder: ProjectJSON.decoder())
            #expect(reports == recorded.count && recorded.count == 3 * comparison.plan.count)
            outcomes.append(recorded.sorted { ($0.index, $0.method.rank, $0.rounds) < ($1.index, $1.method.rank, $1.rounds) })
        }
        #expect(outcomes[0].map(\.text) == outcomes[1].map(\.text))
        #expect(outcomes[0].map(\.predicted) == outcomes[1].map(\.predicted))
        #expect(outcomes[0].map { $0.stages.map(\.generatedTokens) } == outcomes[1].map { $0.stages.map(\.generatedTokens) })
        #expect(outcomes[0].contains { !($0.text ?? "").isEmpty })
    }
}

extension ComparisonHarnessTests {
    /// k = round(latent's mean time at the largest rounds / single's), clamped; the
    /// self-consistency answers wait for every latent and single answer and use that k.
    @Test("an automatic self-consistency k matches latent's time and is fixed before any self-consistency answer")
    func automaticSelfConsistency() throws {
        func outcome(_ index: Int, _ method: InferenceMethod, _ rounds: Int, seconds: Double) -> QuestionOutcome {
            QuestionOutcome(index: index, method: method, rounds: rounds, predicted: nil, expected: "1", correct: false,
                            stages: [StageRecord(round: 1, node: "solver", promptTokens: 1, latentInputs: 0, latentSteps: 0,
                                                 generatedTokens: 1, seconds: seconds)])
        }
        let plan: [(method: InferenceMethod, rounds: Int)] = [(.single, 1), (.latent, 1), (.latent, 3)]
        let budget = SelfConsistencyBudget(outcomes: [outcome(0, .single, 1, seconds: 2), outcome(1, .single, 1, seconds: 4),
                                                      outcome(0, .latent, 3, seconds: 13), outcome(1, .latent, 3, seconds: 17),
                                                      outcome(0, .latent, 1, seconds: 100)], plan: plan)
        #expect(budget?.samples == 5 && budget?.rounds == 3 && budget?.questions == 2)
        #expect(SelfConsistencyBudget(outcomes: [outcome(0, .single, 1, seconds: 1), outcome(0, .latent, 3, seconds: 1000)], plan: plan)?.samples == 64)
        #expect(SelfConsistencyBudget(outcomes: [outcome(0, .single, 1, seconds: 2)], plan: plan) == nil)

        let output = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-harness-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let comparison = try Self.comparison(output, methods: [.latent, .single, .selfConsistency], inFlight: 2, scSamples: 0)
        let markdown = try comparison.run(recorded: try comparison.recorded(), makeRunner: { GraphRunner(graph: try TinyGraph.sequential()) })
        let recorded = try JSONLines.read(QuestionOutcome.self, from: output.appendingPathComponent("outcomes.jsonl"), decoder: ProjectJSON.decoder())
        let firstSC = recorded.firstIndex { $0.method == .selfConsistency }!
        #expect(recorded.count == 3 * 4 && recorded[firstSC...].allSatisfy { $0.method == .selfConsistency })
        let k = SelfConsistencyBudget(outcomes: recorded, plan: comparison.plan)!.samples
        #expect(markdown.contains("self-consistency k = \(k)"))
        #expect(recorded.allSatisfy { $0.samples == ($0.method == .selfConsistency ? k : nil) }, "each answer records its k")
        // Once answers with some k are recorded, that k stays even where the budget moved.
        var earlier = recorded
        for i in earlier.indices where earlier[i].method == .selfConsistency { earlier[i].samples = k + 3 }
        #expect(try comparison.selfConsistencySamples(earlier) == k + 3)
        #expect(try comparison.selfConsistencySamples(recorded.filter { $0.method != .selfConsistency }) == k)
        let report = try comparison.writeReport(earlier, resumed: earlier.count)
        #expect(report.contains("recorded with k = \(k + 3)"))
    }
}

extension ComparisonHarnessTests {
    @Test("once recorded answers fixed an automatic k, a continuation answers self-consistency with each question's other methods")
    func fixedSelfConsistencyInterleaves() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-harness-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let graph = try TinyGraph.sequential()
        let first = try Self.comparison(output, methods: [.latent, .single, .selfConsistency], inFlight: 1, scSamples: 0)
        _ = try first.run(recorded: try first.recorded(), makeRunner: { graph.runner })
        let url = output.appendingPathComponent("outcomes.jsonl")
        let all = try JSONLines.read(QuestionOutcome.self, from: url, decoder: ProjectJSON.decoder())
        // A run that stopped after its first question: only question 0's answers are kept.
        let kept = all.filter { $0.index == 0 }
        let k = try #require(kept.first { $0.method == .selfConsistency }?.samples)
        try FileManager.default.removeItem(at: url)
        let log = try JSONLines.Appender(url: url, encoder: ProjectJSON.encoder())
        for outcome in kept { try log.append(outcome) }
        let again = try Self.comparison(output, methods: [.latent, .single, .selfConsistency], inFlight: 1, scSamples: 0)
        _ = try again.run(recorded: try again.recorded(), makeRunner: { graph.runner })
        let continued = Array(try JSONLines.read(QuestionOutcome.self, from: url, decoder: ProjectJSON.decoder()).dropFirst(kept.count))
        #expect(continued.count == all.count - kept.count)
        #expect(continued.map(\.index) == continued.map(\.index).sorted(), "question by question, self-consistency included")
        #expect(continued.filter { $0.method == .selfConsistency }.allSatisfy { $0.samples == k })
    }
}

private extension AgentGraph {
    var runner: GraphRunner { GraphRunner(graph: self) }
}
