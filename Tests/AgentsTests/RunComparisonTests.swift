import Agents
import Foundation
import Testing
import Training

@Suite("Comparison across compare runs")
struct RunComparisonTests {
    static func outcome(_ index: Int, _ method: InferenceMethod, rounds: Int = 1, correct: Bool, expected: String? = nil,
                        seconds: Double = 1, tokens: Int = 10) -> QuestionOutcome {
        QuestionOutcome(index: index, method: method, rounds: rounds, predicted: correct ? "\(index)" : "x", expected: expected ?? "\(index)",
                        correct: correct, stages: [StageRecord(round: 1, node: "solver", promptTokens: 5, latentInputs: 0, latentSteps: 0,
                                                               generatedTokens: tokens, seconds: seconds)])
    }

    /// Run a: single right on 0–5 of 0–9, latent@2 right on 0–3 and 6–9. Run b: latent@2 right on
    /// 0–1 only; it has no answer for question 9, so question 9 drops out of every row.
    static func runs() -> [RunComparison.Run] {
        let a = (0..<10).flatMap { i in
            [outcome(i, .single, correct: i < 6, seconds: 2), outcome(i, .latent, rounds: 2, correct: i < 4 || i >= 6, seconds: 4, tokens: 20)]
        }
        let b = (0..<9).map { i in outcome(i, .latent, rounds: 2, correct: i < 2, seconds: 3) }
        return [.init(label: "a", data: "q.jsonl", outcomes: a), .init(label: "b", data: "q.jsonl", outcomes: b)]
    }

    @Test("rows count only the questions every configuration answered; default pairs are same-configuration pairs across runs")
    func sharedQuestionsAndDefaultPairs() throws {
        let c = try RunComparison(runs: Self.runs())
        #expect(c.questions == Array(0..<9))
        #expect(c.rows.map(\.configuration.description) == ["a:single@1", "a:latent@2", "b:latent@2"])
        #expect(c.rows.map(\.correct) == [6, 7, 2])  // latent a: 0–3 and 6–8 of 0–8
        #expect(abs(c.rows[0].meanSeconds - 2) < 1e-12 && abs(c.rows[1].meanGeneratedTokens - 20) < 1e-12)
        #expect(c.rows[1].accuracyInterval == ComparisonReport.wilsonInterval(correct: 7, total: 9))
        #expect(c.pairs.count == 1)
        let pair = try #require(c.pairs.first)
        #expect(pair.first.description == "a:latent@2" && pair.second.description == "b:latent@2")
        #expect(pair.onlyFirst == 5 && pair.onlySecond == 0)
        #expect(pair.pValue == PairedComparison.exactSignTest(5, 0))
        #expect(c.markdown().contains("| a:latent@2 | b:latent@2 | 5 | 0 | 0.062 |"))
        let decoded = try ProjectJSON.decoder().decode(RunComparison.self, from: try c.json())
        #expect(decoded == c)
    }

    @Test("explicit pairs may cross methods; unknown configurations, other data and duplicate labels are refused")
    func explicitPairsAndRefusals() throws {
        let single = try RunComparison.Configuration(parsing: "a:single")
        let latent = try RunComparison.Configuration(parsing: "b:latent@2")
        let c = try RunComparison(runs: Self.runs(), pairs: [(latent, single)])
        #expect(c.pairs.count == 1 && c.pairs[0].onlyFirst == 0 && c.pairs[0].onlySecond == 4)
        #expect(throws: AgentError.self) { try RunComparison(runs: Self.runs(), pairs: [(try .init(parsing: "b:text@2"), single)]) }
        for bad in ["latent@2", ":latent", "a:latnet@2", "a:latent@0", "a:latent@x", "a:latent@2@3"] {
            #expect(throws: AgentError.self, "\(bad)") { try RunComparison.Configuration(parsing: bad) }
        }
        var other = Self.runs()
        other[1].outcomes[3].expected = "something else"
        #expect(throws: AgentError.self) { try RunComparison(runs: other) }
        var same = Self.runs()
        same[1].label = "a"
        #expect(throws: AgentError.self) { try RunComparison(runs: same) }
        #expect(throws: AgentError.self) { try RunComparison(runs: [Self.runs()[0]]) }
        var disjoint = Self.runs()
        disjoint[1].outcomes = [Self.outcome(20, .latent, rounds: 2, correct: true)]
        #expect(throws: AgentError.self) { try RunComparison(runs: disjoint) }
    }

    @Test("a compare directory loads with its first copy of each record and without a partial last line")
    func loadsDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-runs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let settings = Comparison.Settings(system: "s.json", data: "q.jsonl", latentSteps: 4, maxTokens: 8, temperature: 0, seed: 0,
                                           answerRetry: true, prompts: nil, links: nil)
        try JSONEncoder().encode(settings).write(to: directory.appendingPathComponent("settings.json"))
        let records = [Self.outcome(0, .single, correct: true), Self.outcome(0, .single, correct: false), Self.outcome(1, .single, correct: false)]
        var lines = try records.map { String(decoding: try ProjectJSON.encoder().encode($0), as: UTF8.self) }.joined(separator: "\n")
        lines += "\n{\"index\": 2, \"meth"
        try Data(lines.utf8).write(to: directory.appendingPathComponent("outcomes.jsonl"))
        let run = try RunComparison.Run.load(label: "x", directory: directory)
        #expect(run.data == "q.jsonl")
        #expect(run.outcomes.map(\.index) == [0, 1] && run.outcomes[0].correct)
        #expect(throws: AgentError.self) { try RunComparison.Run.load(label: "x", directory: directory.appendingPathComponent("missing")) }
    }
}
