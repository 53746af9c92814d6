import Foundation
@testable import Agents
import Kernels
import Links
import Models
import RoleData
import TestSupport
import Testing
import Tokenization
import Training

@Suite("Outer-loop training (tiny models)")
struct OuterTrainingTests {
    static let example = DataRow(RoleExample(
        question: "Tom has 3 apples and buys 4 more. How many apples?", plan: "Step 1: add the apples",
        refinedPlan: "Step 1: add 3 and 4", answer: "3 + 4 = 7. The answer is \\boxed{7}."))

    static func options(rounds: Int, finalOnly: Bool = true) -> OuterObjectiveOptions {
        var o = OuterObjectiveOptions()
        o.rounds = rounds
        o.maximumLatentRows = 5
        o.finalRoundOnly = finalOnly
        o.threads = 1
        return o
    }

    /// ⟨∇L, v⟩ for a random unit direction v over one edge's parameters against the five-point
    /// central difference of L along v. Every edge is checked separately, so gradient that only
    /// reaches a link through later rounds (solver → planner, and round 1 of the others under
    /// final-round-only supervision) is checked too.
    @Test("outer-link gradients match finite differences across rounds", arguments: [(1, true), (2, true), (3, false)])
    func gradientCheck(rounds: Int, finalOnly: Bool) throws {
        let system = try TinyGraph.sequential()
        let options = Self.options(rounds: rounds, finalOnly: finalOnly)
        // The loss is smooth at this scale (the five-point stencil's error is O(ε⁴)); smaller
        // steps drown the feedback edge's small derivative (~3e-5) in Float32 rounding.
        for (edge, analytic, numeric) in try Self.directionalDerivatives(system, options: options, seed: 7, step: { _ in 0.1 }) {
            let error = abs(analytic - numeric) / max(abs(numeric), 1e-4)
            #expect(error < 3e-2, "\(edge) rounds \(rounds): analytic \(analytic) numeric \(numeric)")
            #expect(abs(analytic) > 1e-6, "\(edge) rounds \(rounds) receives a gradient")
        }
        system.outerParameters.zeroGradients()
        let result = try system.outerObjective(Self.example, options: options)
        #expect(result.loss.isFinite && result.loss > 0)
        // Per-round accounting: an edge used in a round got gradient there; the feedback edge is
        // unused in the last round.
        for r in 0..<rounds {
            #expect(result.gradientNorms["planner_to_refiner"]![r] > 0)
            #expect(result.gradientNorms["refiner_to_solver"]![r] > 0)
        }
        #expect(result.gradientNorms["solver_to_planner"]![rounds - 1] == 0)
        if rounds == 1 {
            let total = system.edges[0].link.parameters.flatMap(\.gradient).reduce(0) { $0 + Double($1 * $1) }.squareRoot()
            #expect(abs(result.gradientNorms["planner_to_refiner"]![0] - total) <= 1e-6 * total)
        }
        #expect(result.roundLosses.compactMap { $0 }.count == (finalOnly ? 1 : rounds))
    }

    @Test("teacher forcing: the target follows the prompt, latent rows sit at the slot, left truncation cuts the prompt")
    func teacherForcedPrompt() throws {
        let system = try TinyGraph.sequential()
        let model = system.nodes[1].model, d = model.configuration.width
        let latents = (0..<(4 * d)).map { Float($0 % 7) * 0.01 }
        let user = system.userPrompt(1, question: Self.example.question, round: 1)
        let marker = PromptFill.marker(slot: "planner")
        let full = try TeacherForcedPrompt(model: model, system: system.systemPrompt, user: user, target: Self.example["refined_plan"]!,
                                           latents: [marker: latents], maximumLength: 4096)
        let slot = try #require(full.slots.first)
        #expect(full.slots.count == 1 && slot.marker == marker && slot.rows == 0..<4 && slot.positions.count == 4)
        #expect(full.tokens[slot.positions].allSatisfy { $0 == nil })
        #expect(Array(full.embeddings[(slot.positions.lowerBound * d)..<((slot.positions.lowerBound + 4) * d)]) == latents)
        #expect(full.lossPositions.count == full.count - full.promptLength && full.lossTargets.count == full.lossPositions.count)
        // Cut so that the first two latent rows fall off the left edge.
        let keep = full.count - slot.positions.lowerBound - 2
        let cut = try TeacherForcedPrompt(model: model, system: system.systemPrompt, user: user, target: Self.example["refined_plan"]!,
                                          latents: [marker: latents], maximumLength: keep)
        #expect(cut.count == keep && cut.slots.first?.rows == 2..<4 && cut.slots.first?.positions == 0..<2)
        #expect(cut.promptLength == full.promptLength - (full.count - keep))
        #expect(Array(cut.tokens) == Array(full.tokens.suffix(keep)))
        #expect(throws: AgentError.self) {
            try TeacherForcedPrompt(model: model, system: system.systemPrompt, user: user, target: Self.example["refined_plan"]!,
                                    latents: [marker: latents], maximumLength: full.count - full.promptLength)
        }
    }
}

extension OuterTrainingTests {
    /// Per edge used (the feedback edge only from two rounds on): ⟨∇L, v⟩ for a random unit
    /// direction v over the edge's parameters, from one backward of the objective on ``example``,
    /// and the five-point central difference of L along v with step `step(edge index)`.
    static func directionalDerivatives(
        _ graph: AgentGraph, options: OuterObjectiveOptions, seed: UInt64, step: (Int) -> Double
    ) throws -> [(edge: String, analytic: Double, numeric: Double)] {
        try directionalDerivatives(graph, edges: graph.edges.indices.filter { options.rounds > 1 || graph.edges[$0].direction != .feedback },
                                   seed: seed, step: step,
                                   backward: { _ = try graph.outerObjective(example, options: options) },
                                   loss: { try graph.outerObjective(example, options: options, gradient: false).loss })
    }

    /// The same for any objective: `backward` adds its gradient into the (zeroed) links, `loss`
    /// evaluates it at the links' current values; only `edges` are checked.
    static func directionalDerivatives(
        _ graph: AgentGraph, edges: [Int], seed: UInt64, step: (Int) -> Double, backward: () throws -> Void, loss objective: () throws -> Double
    ) throws -> [(edge: String, analytic: Double, numeric: Double)] {
        graph.outerParameters.zeroGradients()
        try backward()
        var rng = SplitMix64(seed: seed), results: [(edge: String, analytic: Double, numeric: Double)] = []
        for k in edges {
            let link = graph.edges[k].link.parameters
            var direction = link.map { p in (0..<p.count).map { _ in rng.nextUnitFloat() * 2 - 1 } }
            let scale = 1 / direction.flatMap { $0 }.reduce(0) { $0 + Double($1 * $1) }.squareRoot()
            direction = direction.map { $0.map { $0 * Float(scale) } }
            var analytic = 0.0
            for (p, v) in zip(link, direction) {
                let g = p.gradient
                for i in 0..<p.count { analytic += Double(g[i]) * Double(v[i]) }
            }
            let original = link.map(\.values)
            func loss(at step: Double) throws -> Double {
                for (j, p) in link.enumerated() { p.values = zip(original[j], direction[j]).map { $0 + Float(step) * $1 } }
                defer { for (j, p) in link.enumerated() { p.values = original[j] } }
                return try objective()
            }
            let e = step(k)
            let numeric = (8 * (try loss(at: e) - loss(at: -e)) - (try loss(at: 2 * e) - loss(at: -2 * e))) / (12 * e)
            results.append((graph.edgeName(k), analytic, numeric))
        }
        return results
    }

    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rmas-outer-\(UUID().uuidString)")
    }

    static func configuration(steps: Int) -> OuterTrainingConfiguration {
        var c = OuterTrainingConfiguration()
        c.objective = options(rounds: 2)
        c.steps = steps
        c.batchSize = 2
        c.learningRate = 3e-3
        c.warmupSteps = 2
        c.checkpointEvery = 2
        c.evaluateEvery = 3
        return c
    }

    static let identities = [CheckpointManifest.Model(role: "planner", name: "wide", sha256: "a"),
                             .init(role: "refiner", name: "narrow", sha256: "b"), .init(role: "solver", name: "wide", sha256: "a")]

    static func data() -> [DataRow] { SyntheticArithmetic(seed: 3).generate(count: 4).map(DataRow.init) }

    @Test("training lowers the loss on a few examples, logs per-round gradient norms, and evaluates held-out rows")
    func trainingLowersLoss() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let system = try TinyGraph.sequential()
        var configuration = Self.configuration(steps: 12)
        configuration.learningRate = 1e-2
        let before = try trainAndCheck(system, configuration, directory)
        // The first run's lock is released with its trainer; a resumed one finds its start again.
        let reopened = try OuterTrainer(graph: system, train: Self.data(), heldOut: [Self.example], configuration: configuration,
                                        output: directory, models: Self.identities, resume: true)
        #expect(reopened.heldOutHistory.map(\.step) == [0] && reopened.heldOutHistory.first?.loss == before,
                "a resumed run keeps the starting point's held-out loss")
    }

    /// Trains 12 steps into `directory` and checks the run; returns the starting held-out loss.
    private func trainAndCheck(_ system: AgentGraph, _ configuration: OuterTrainingConfiguration, _ directory: URL) throws -> Double {
        let trainer = try OuterTrainer(graph: system, train: Self.data(), heldOut: [Self.example], configuration: configuration,
                                       output: directory, models: Self.identities, resume: false)
        let before = try trainer.evaluate()
        var reports: [OuterTrainingProgress] = []
        try trainer.run { reports.append($0); return true }
        let after = try trainer.evaluate()
        #expect(reports.count == 12 && reports.last?.checkpointed == true)
        #expect(reports.allSatisfy { $0.roundGradientNorms["planner_to_refiner"]!.allSatisfy { $0 > 0 } })
        #expect(trainer.heldOutHistory.map(\.step) == [0, 3, 6, 9, 12])
        #expect(trainer.heldOutHistory.first?.loss == before, "the step-0 held-out loss is the starting point's")
        let firstLosses = reports.prefix(2).map(\.loss).reduce(0, +), lastLosses = reports.suffix(2).map(\.loss).reduce(0, +)
        #expect(lastLosses < firstLosses, "training loss \(firstLosses / 2) → \(lastLosses / 2)")
        #expect(after < before, "held-out \(before) → \(after)")
        let (manifest, _, moments) = try CheckpointStore(directory: directory).load()
        #expect(manifest.kind == "outer" && manifest.step == 12 && manifest.links.map(\.name) == ["planner_to_refiner", "refiner_to_solver", "solver_to_planner"])
        #expect(moments != nil)
        #expect(manifest.metrics["initial_held_out_loss"] == before)
        return before
    }

    /// Also with bfloat16 products (`--matmul bfloat16`), which a resume must not switch.
    @Test("a resumed run ends with exactly the weights of an uninterrupted one", arguments: [ActivationPrecision.float32, .bfloat16])
    func resume(_ precision: ActivationPrecision) throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func configuration(steps: Int) -> OuterTrainingConfiguration {
            var c = Self.configuration(steps: steps)
            c.objective.precision = precision
            return c
        }
        let straight = try TinyGraph.sequential()
        try OuterTrainer(graph: straight, train: Self.data(), heldOut: [], configuration: configuration(steps: 6),
                         output: directory.appendingPathComponent("a"), models: Self.identities, resume: false).run()
        let first = try TinyGraph.sequential()
        try OuterTrainer(graph: first, train: Self.data(), heldOut: [], configuration: configuration(steps: 6),
                         output: directory.appendingPathComponent("b"), models: Self.identities, resume: false).run { $0.step < 4 }
        let resumed = try TinyGraph.sequential()
        let trainer = try OuterTrainer(graph: resumed, train: Self.data(), heldOut: [], configuration: configuration(steps: 6),
                                       output: directory.appendingPathComponent("b"), models: Self.identities, resume: true)
        #expect(trainer.step == 4)
        try trainer.run()
        #expect(straight.outerParameters.map(\.values) == resumed.outerParameters.map(\.values))
        #expect(straight.outerParameters.map(\.values) != first.outerParameters.map(\.values))
        // A different objective (rounds) is refused.
        var otherRounds = configuration(steps: 6)
        otherRounds.objective.rounds = 3
        #expect(throws: AgentError.self) {
            try OuterTrainer(graph: try TinyGraph.sequential(), train: Self.data(), heldOut: [], configuration: otherRounds,
                             output: directory.appendingPathComponent("b"), models: Self.identities, resume: true)
        }
        // So is another product format, where it differs from fp32 on this CPU.
        if precision == .bfloat16, GEMMFormat.bfloat16.isSupported {
            #expect(throws: AgentError.self) {
                try OuterTrainer(graph: try TinyGraph.sequential(), train: Self.data(), heldOut: [], configuration: Self.configuration(steps: 6),
                                 output: directory.appendingPathComponent("b"), models: Self.identities, resume: true)
            }
        }
        // Another system's checkpoint is refused.
        var other = Self.identities
        other[1].sha256 = "c"
        #expect(throws: AgentError.self) {
            try OuterTrainer(graph: try TinyGraph.sequential(), train: Self.data(), heldOut: [],
                             configuration: configuration(steps: 6), output: directory.appendingPathComponent("b"), models: other,
                             resume: true)
        }
    }

    @Test("a non-finite loss stops training with a typed error and keeps the last checkpoint")
    func nonFiniteLoss() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let system = try TinyGraph.sequential()
        var configuration = Self.configuration(steps: 40)
        configuration.learningRate = 1e30
        configuration.warmupSteps = 0
        configuration.checkpointEvery = 1
        let trainer = try OuterTrainer(graph: system, train: Self.data(), heldOut: [], configuration: configuration,
                                       output: directory, models: Self.identities, resume: false)
        var caught: AgentError?
        do { try trainer.run() } catch { caught = error }
        guard case .nonFiniteLoss(let step) = caught else {
            Issue.record("expected nonFiniteLoss, got \(String(describing: caught))")
            return
        }
        let (manifest, weights, _) = try CheckpointStore(directory: directory).load()
        #expect(manifest.step == step)
        #expect(weights.tensors.values.allSatisfy { $0.values.allSatisfy(\.isFinite) })
    }
}
