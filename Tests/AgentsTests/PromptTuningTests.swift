import Foundation
@testable import Agents
import Kernels
import Models
import RoleData
import Testing
import Training

@Suite("Prompt tuning: the tuned single-agent baseline (tiny models)")
struct PromptTuningTests {
    static func configuration(steps: Int) -> PromptTuningConfiguration {
        var c = PromptTuningConfiguration()
        c.rows = 4
        c.steps = steps
        c.batchSize = 2
        c.learningRate = 1e-2
        c.warmupSteps = 1
        c.checkpointEvery = 2
        c.evaluateEvery = 3
        c.threads = 1
        return c
    }

    static let identity = CheckpointManifest.Model(role: "solver", name: "wide", sha256: "a")

    static func tuner(_ graph: AgentGraph, _ directory: URL, steps: Int, resume: Bool = false) throws -> PromptTuner {
        // Held-out = a training row: random tiny models learn the rows, not a skill that generalises.
        try PromptTuner(graph: graph, node: graph.answer, train: OuterTrainingTests.data(), heldOut: [OuterTrainingTests.data()[0]],
                        configuration: configuration(steps: steps), output: directory, model: identity, resume: resume)
    }

    /// ⟨∇L, v⟩ along a random unit direction of the soft rows against a five-point central
    /// difference of the held-out CE.
    @Test("the soft rows' gradient matches finite differences")
    func gradientCheck() throws {
        let directory = OuterTrainingTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tuner = try Self.tuner(try TinyGraph.sequential(), directory, steps: 1)
        let p = tuner.prompt.parameter, row = OuterTrainingTests.example
        p.zeroGradient()
        let loss = try tuner.objective(row, scale: 1, gradient: true).loss
        #expect(loss.isFinite && loss > 0)
        var rng = SplitMix64(seed: 11)
        var v = (0..<p.count).map { _ in rng.nextUnitFloat() * 2 - 1 }
        let norm = v.reduce(0) { $0 + Double($1 * $1) }.squareRoot()
        v = v.map { $0 / Float(norm) }
        let analytic = zip(p.gradient, v).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        let original = p.values
        func at(_ e: Double) throws -> Double {
            p.values = zip(original, v).map { $0 + Float(e) * $1 }
            defer { p.values = original }
            return try tuner.objective(row, scale: 1, gradient: false).loss
        }
        let e = 0.05
        let numeric = (8 * (try at(e) - at(-e)) - (try at(2 * e) - at(-2 * e))) / (12 * e)
        #expect(abs(analytic) > 1e-6)
        #expect(abs(analytic - numeric) <= 3e-2 * max(abs(numeric), 1e-4), "analytic \(analytic) numeric \(numeric)")
    }

    @Test("tuning lowers the held-out loss, checkpoints, resumes exactly, and single-tuned and latent-tuned answer with the rows")
    func trainsResumesAndAnswers() throws {
        let directory = OuterTrainingTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let graph = try TinyGraph.sequential()
        let straight = try Self.tuner(graph, directory.appendingPathComponent("a"), steps: 8)
        let before = try straight.evaluate()
        try straight.run()
        let after = try straight.evaluate()
        #expect(after < before, "held-out \(before) → \(after)")

        // 4 steps, stopped, then resumed to 8: the same rows bit for bit.
        do {  // the first run's directory lock goes with it
            let first = try Self.tuner(graph, directory.appendingPathComponent("b"), steps: 8)
            try first.run { $0.step < 4 }
        }
        let resumed = try Self.tuner(graph, directory.appendingPathComponent("b"), steps: 8, resume: true)
        #expect(resumed.step == 4)
        try resumed.run()
        #expect(resumed.prompt.parameter.values == straight.prompt.parameter.values)

        // The checkpoint loads as a soft prompt; single-tuned decodes with it, and differs from single's prompt.
        let loaded = try SoftPrompt(checkpoint: directory.appendingPathComponent("a"), width: straight.prompt.width)
        #expect(loaded.parameter.values == straight.prompt.parameter.values)
        #expect(throws: AgentError.self) { try SoftPrompt(checkpoint: directory.appendingPathComponent("a"), width: 7) }
        var generation = GenerationParameters()
        generation.maxTokens = 3
        let runner = GraphRunner(graph: graph, softPrompt: loaded)
        let tuned = try runner.run(question: "What is 2 + 3?", method: .singleTuned, rounds: 1, latentSteps: 1, generation: generation)
        let plain = try runner.run(question: "What is 2 + 3?", method: .single, rounds: 1, latentSteps: 1, generation: generation)
        #expect(tuned.stages.count == 1 && tuned.stages[0].latentInputs == 4)
        #expect(plain.stages[0].latentInputs == 0)
        #expect(throws: AgentError.self) {
            try GraphRunner(graph: graph).run(question: "What is 2 + 3?", method: .singleTuned, rounds: 1, latentSteps: 1, generation: generation)
        }
        // latent-tuned: latent's stages, with the rows after the answering node's message only where it decodes.
        let latentTuned = try runner.run(question: "What is 2 + 3?", method: .latentTuned, rounds: 2, latentSteps: 2, generation: generation)
        let latent = try runner.run(question: "What is 2 + 3?", method: .latent, rounds: 2, latentSteps: 2, generation: generation)
        #expect(latentTuned.stages.map(\.node) == latent.stages.map(\.node))
        #expect(latentTuned.stages.map(\.latentInputs) == latent.stages.map(\.latentInputs).enumerated().map {
            $0.offset == latent.stages.count - 1 ? $0.element + 4 : $0.element
        })
        #expect(throws: AgentError.self) {
            try GraphRunner(graph: graph).run(question: "What is 2 + 3?", method: .latentTuned, rounds: 1, latentSteps: 1, generation: generation)
        }

        // A new run started from the checkpoint's rows: step 0, the trained rows' held-out loss.
        let continued = try PromptTuner(graph: graph, node: graph.answer, train: OuterTrainingTests.data(),
                                        heldOut: [OuterTrainingTests.data()[0]], configuration: Self.configuration(steps: 2),
                                        output: directory.appendingPathComponent("c"), model: Self.identity, resume: false, initial: loaded)
        #expect(continued.step == 0)
        #expect(continued.prompt.parameter.values == straight.prompt.parameter.values)
        #expect(try continued.evaluate() == after)
        var wider = Self.configuration(steps: 2)
        wider.rows = 5
        #expect(throws: AgentError.self) {
            try PromptTuner(graph: graph, node: graph.answer, train: OuterTrainingTests.data(), heldOut: [],
                            configuration: wider, output: directory.appendingPathComponent("d"), model: Self.identity,
                            resume: false, initial: loaded)
        }
    }
}
