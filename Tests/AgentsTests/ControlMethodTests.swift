import Foundation
@testable import Agents
import Links
import Models
import Testing

/// The controls that tell whether the other agents' latents carry anything (issue: evaluation at scale).
@Suite("Control methods: latent-zero and solver-inner (tiny models)")
struct ControlMethodTests {
    static let question = "What is 2 + 3?"
    static let generation = GenerationParameters(maxTokens: 6)

    @Test("latent-zero runs the same stages as latent, but its answer does not depend on what the other agents send")
    func latentZero() throws {
        let graph = try TinyGraph.sequential()
        let runner = GraphRunner(graph: graph)
        let latent = try runner.run(question: Self.question, method: .latent, rounds: 2, latentSteps: 3, generation: Self.generation)
        let zero = try runner.run(question: Self.question, method: .latentZero, rounds: 2, latentSteps: 3, generation: Self.generation)
        #expect(zero.stages.map(\.node) == latent.stages.map(\.node) && zero.stages.map(\.latentInputs) == latent.stages.map(\.latentInputs))
        // Perturb every link upstream of the solver: latent's answer moves, latent-zero's cannot.
        let refinerToSolver = graph.edges[1].link.parameters, plannerInner = graph.nodes[0].inner.parameters
        let saved = (refinerToSolver.map(\.values), plannerInner.map(\.values))
        defer {
            for (p, v) in zip(refinerToSolver, saved.0) { p.values = v }
            for (p, v) in zip(plannerInner, saved.1) { p.values = v }
        }
        for p in refinerToSolver { p.values = p.values.map { $0 * 3 + 0.5 } }
        for p in plannerInner { p.values = p.values.map { -$0 } }
        let latentAfter = try runner.run(question: Self.question, method: .latent, rounds: 2, latentSteps: 3, generation: Self.generation)
        let zeroAfter = try runner.run(question: Self.question, method: .latentZero, rounds: 2, latentSteps: 3, generation: Self.generation)
        #expect(latentAfter.text != latent.text, "control: the perturbation reaches the latent answer")
        #expect(zeroAfter.text == zero.text, "latent-zero's answer ignores the links")
    }

    @Test("solver-inner: one stage of the answering model with m latent steps of its own inner link, then text")
    func solverInner() throws {
        let graph = try TinyGraph.sequential()
        let runner = GraphRunner(graph: graph)
        let a = try runner.run(question: Self.question, method: .solverInner, rounds: 3, latentSteps: 4, generation: Self.generation)
        #expect(a.stages.count == 1 && a.stages[0].node == "solver" && a.stages[0].latentSteps == 4 && a.stages[0].latentInputs == 0)
        #expect(a.stages[0].generatedTokens >= 1 && a.text == a.stages[0].text)
        let b = try runner.run(question: Self.question, method: .solverInner, rounds: 1, latentSteps: 4, generation: Self.generation)
        #expect(a.text == b.text, "rounds do not apply")
        // The thoughts matter: a different inner link changes the answer; the single agent has none.
        let inner = graph.nodes[2].inner.parameters, saved = inner.map(\.values)
        defer { for (p, v) in zip(inner, saved) { p.values = v } }
        for p in inner { p.values = p.values.map { $0 * -2 + 0.3 } }
        let c = try runner.run(question: Self.question, method: .solverInner, rounds: 1, latentSteps: 4, generation: Self.generation)
        #expect(c.text != a.text)
    }

    @Test("compare's plan runs one-shot methods once, then each graph method per rounds; reports pair the controls")
    func planAndReport() throws {
        let plan = Comparison.plan(methods: Set(InferenceMethod.allCases), rounds: [2, 1])
        #expect(plan.map { "\($0.method.rawValue)/\($0.rounds)" } == [
            "single/1", "single-tuned/1", "self-consistency/1", "solver-inner/1", "latent/1", "latent-zero/1", "latent-shuffled/1", "latent-tuned/1",
            "text/1", "latent/2", "latent-zero/2", "latent-shuffled/2", "latent-tuned/2", "text/2",
        ])
        func outcome(_ i: Int, _ m: InferenceMethod, _ r: Int, _ correct: Bool) -> QuestionOutcome {
            QuestionOutcome(index: i, method: m, rounds: r, predicted: "1", expected: "1", correct: correct,
                            stages: [StageRecord(round: 1, node: "solver", promptTokens: 1, latentInputs: 0, latentSteps: 0, generatedTokens: 1, seconds: 1)])
        }
        var outcomes: [QuestionOutcome] = []
        for i in 0..<4 {
            for (m, r) in plan { outcomes.append(outcome(i, m, r, m == .latent || i == 0)) }
        }
        let report = ComparisonReport(outcomes: outcomes, metadata: .init(system: "s", data: "d", questions: 4, date: "", machine: "", command: "", notes: []))
        #expect(Array(report.rows.map(\.method.rawValue).prefix(4)) == ["single", "single-tuned", "self-consistency", "solver-inner"])
        let pairs = PairedComparison.standard(outcomes: outcomes).map { "\($0.first.rawValue)/\($0.firstRounds)~\($0.second.rawValue)/\($0.secondRounds)" }
        #expect(pairs.contains("latent/1~latent-zero/1") && pairs.contains("latent/2~solver-inner/1") && pairs.contains("solver-inner/1~single/1")
                && pairs.contains("latent/2~single-tuned/1") && pairs.contains("text/1~single-tuned/1") && pairs.contains("single-tuned/1~single/1")
                && pairs.contains("latent-tuned/2~single-tuned/1") && pairs.contains("latent-tuned/1~latent/1"))
        let svg = report.svg()
        #expect(svg.contains("latent-zero (control)") && svg.contains("solver-inner (control)") && svg.contains("prompt-tuned") && svg.contains("answering node prompt-tuned"))
    }
}

extension ControlMethodTests {
    @Test("latent-shuffled: with the question itself as donor it is latent exactly; another donor's latents change the answer")
    func latentShuffled() throws {
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        let latent = try runner.run(question: Self.question, method: .latent, rounds: 2, latentSteps: 3, generation: Self.generation)
        let same = try runner.run(question: Self.question, method: .latentShuffled, rounds: 2, latentSteps: 3, generation: Self.generation,
                                  donor: Self.question)
        #expect(same.text == latent.text && GraphRunnerTests.untimed(same.stages) == GraphRunnerTests.untimed(latent.stages))
        // Another donor: its deliveries differ from this question's, slot by slot, and the run
        // takes the same stages (what reaches the slots is the donor's: the identity above shows
        // the plumbing delivers exactly what the donor run captured).
        let donor = "Name three primary colours, then multiply 17 by 23 and explain each step."
        func deliveries(_ q: String) throws -> [String: [Float]] {
            var out: [String: [Float]] = [:]
            _ = try runner.rounds(question: q, answeringAfter: [2], latentSteps: 3, generation: Self.generation, samples: 1, latent: true,
                                  messages: .own, decodeAnswers: false, capture: { out[$0] = $1 }, events: { _ in })
            return out
        }
        let mine = try deliveries(Self.question), theirs = try deliveries(donor)
        #expect(Set(mine.keys) == Set(theirs.keys) && mine.count == 5, "five deliveries in two rounds")
        #expect(mine.keys.allSatisfy { mine[$0] != theirs[$0] })
        let other = try runner.run(question: Self.question, method: .latentShuffled, rounds: 2, latentSteps: 3, generation: Self.generation,
                                   donor: donor)
        #expect(other.stages.map(\.node) == latent.stages.map(\.node))
        #expect(throws: AgentError.self) {
            try runner.run(question: Self.question, method: .latentShuffled, rounds: 1, latentSteps: 3, generation: Self.generation)
        }
    }
}

extension ControlMethodTests {
    @Test("self-consistency: k sampled single-agent replies, the most frequent answer wins (ties: the earliest)")
    func selfConsistency() throws {
        #expect(GraphRunner.majority(["3", nil, "5", "5", "3"]) == 0, "a tie goes to the earliest")
        #expect(GraphRunner.majority([nil, "7", "5", "5"]) == 2)
        #expect(GraphRunner.majority([nil, nil]) == nil)
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        var generation = Self.generation
        generation.sampling = SamplingParameters(temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: 3)
        let r = try runner.run(question: Self.question, method: .selfConsistency, rounds: 2, latentSteps: 1, generation: generation,
                               samples: 3)
        #expect(r.stages.count == 3 && r.stages.allSatisfy { $0.node == "solver" && $0.latentSteps == 0 })
        #expect(r.alternatives.count == 2 && ([r.text] + r.alternatives).sorted() == r.stages.compactMap(\.text).sorted())
        // Each reply is the single agent's at seed + k.
        var second = generation
        second.sampling.seed = 4
        let single = try runner.run(question: Self.question, method: .single, rounds: 1, latentSteps: 1, generation: second)
        #expect(r.stages[1].text == single.text)
        #expect(throws: AgentError.self) {
            try runner.run(question: Self.question, method: .selfConsistency, rounds: 1, latentSteps: 1, generation: Self.generation, samples: 3)
        }
    }
}
