import Foundation
@testable import Agents
import Kernels
import Models
import RoleData
import TestSupport
import Testing
import Training

/// The outer objective trained on the latents inference sends (`LatentSource.rollout`).
@Suite("Outer objective on rollout latents (tiny models)")
struct RolloutObjectiveTests {
    static func options(rounds: Int, steps: Int) -> OuterObjectiveOptions {
        var o = OuterTrainingTests.options(rounds: rounds)
        o.latentSource = .rollout(steps: steps)
        return o
    }

    @Test("its loss is the answer's loss under inference's latents, with or without the backward", arguments: [1, 2, 3])
    func equalsInferenceLoss(rounds: Int) throws {
        let graph = try TinyGraph.sequential()
        let options = Self.options(rounds: rounds, steps: 3)
        let inference = try graph.inferenceLatentLoss(OuterTrainingTests.example, latentSteps: 3, options: options)
        let forward = try graph.outerObjective(OuterTrainingTests.example, options: options, gradient: false).loss
        graph.outerParameters.zeroGradients()
        let trained = try graph.outerObjective(OuterTrainingTests.example, options: options).loss
        #expect(abs(forward - inference) <= 1e-4 * inference, "forward \(forward) vs inference \(inference)")
        #expect(abs(trained - inference) <= 1e-4 * inference, "with a tape \(trained) vs inference \(inference)")
        // The teacher-forced objective reads other rows (the dataset's texts): a different loss.
        var teacherForced = options
        teacherForced.latentSource = .teacherForced
        #expect(abs(try graph.outerObjective(OuterTrainingTests.example, options: teacherForced, gradient: false).loss - inference) > 1e-3)
    }

    /// With one latent step only h₀ is passed and nothing is fed back, so the truncated backward
    /// is the exact gradient: ⟨∇L, v⟩ along a random v equals the exact rollout backward's on every
    /// edge, and the five-point central difference on the forward edges. Not on the feedback edge:
    /// its derivative here (~5e-7) is below what a Float32 difference quotient of a loss of ~7
    /// resolves (rounding alone moves it by ~6e-7 at a step of 1, so it passed or failed with the
    /// fp32 GEMM's summation order); the several-step test below checks that edge against finite
    /// differences where its derivative is ~7e-5.
    @Test("with one latent step its gradients are the exact backward's and match finite differences", arguments: [1, 2])
    func gradientCheck(rounds: Int) throws {
        let graph = try TinyGraph.sequential()
        let options = Self.options(rounds: rounds, steps: 1)
        var exact = options
        exact.rolloutBackward = .exact
        let derivatives = try OuterTrainingTests.directionalDerivatives(graph, options: options, seed: 11, step: { _ in 0.3 })
        let reference = try OuterTrainingTests.directionalDerivatives(graph, options: exact, seed: 11, step: { _ in 0.3 })
        #expect(derivatives.count == (rounds == 1 ? 2 : 3) && reference.count == derivatives.count)
        for ((edge, analytic, numeric), full) in zip(derivatives, reference) {
            #expect(edge == full.edge && abs(analytic) > 1e-9, "\(edge) receives a gradient")
            #expect(abs(analytic - full.analytic) <= 1e-4 * abs(full.analytic), "\(edge) rounds \(rounds): \(analytic) vs exact \(full.analytic)")
            let k = try #require(graph.edges.indices.first { graph.edgeName($0) == edge })
            guard graph.edges[k].direction != .feedback else { continue }
            #expect(abs(numeric) > 1e-7, "\(edge) receives a gradient")
            #expect(abs(analytic - numeric) < 5e-2 * abs(numeric), "\(edge) rounds \(rounds): analytic \(analytic) numeric \(numeric)")
        }
    }

    /// With several latent steps the upstream stages feed their inner link's outputs back; the
    /// exact backward carries the gradient along that chain, so every edge's derivative matches,
    /// the upstream ones included (where the truncated backward was 3–15× off on these models).
    @Test("with the exact rollout backward its gradients match finite differences at several steps",
          arguments: [(1, 4, false), (2, 4, true), (2, 16, false)])
    func exactGradientCheck(rounds: Int, steps: Int, keepActivations: Bool) throws {
        let graph = try TinyGraph.sequential()
        var options = Self.options(rounds: rounds, steps: steps)
        options.rolloutBackward = .exact
        options.keepActivations = keepActivations
        // The feedback edge's derivative (~7e-5) needs a longer step than the others, but at 1.0
        // the difference quotient's own error reached 6%: 0.4 keeps both under 1%.
        let step: (Int) -> Double = { graph.edges[$0].direction == .feedback ? 0.4 : 0.3 }
        let derivatives = try OuterTrainingTests.directionalDerivatives(graph, options: options, seed: 11, step: step)
        #expect(derivatives.count == (rounds == 1 ? 2 : 3))
        for (edge, analytic, numeric) in derivatives {
            #expect(abs(numeric) > 1e-7, "\(edge) receives a gradient")
            #expect(abs(analytic - numeric) < 5e-2 * abs(numeric), "\(edge) rounds \(rounds) m \(steps): analytic \(analytic) numeric \(numeric)")
        }
        // At one round the answering node's incoming edge does not depend on any chain: both backwards agree on it.
        guard rounds == 1 else { return }
        options.rolloutBackward = .truncated
        let truncated = try OuterTrainingTests.directionalDerivatives(graph, options: options, seed: 11, step: step)
        let intoAnswer = graph.edges.indices.filter { graph.edges[$0].to == graph.answer }.map(graph.edgeName)
        #expect(intoAnswer.count == 1)
        for (exact, cut) in zip(derivatives, truncated) where intoAnswer.contains(exact.edge) {
            #expect(abs(exact.analytic - cut.analytic) <= 1e-4 * abs(exact.analytic), "\(exact.edge): \(exact.analytic) vs \(cut.analytic)")
        }
    }

    @Test("only the answering node's target is read; settings it cannot honour are refused")
    func readsOnlyTheAnswer() throws {
        let graph = try TinyGraph.sequential()
        let options = Self.options(rounds: 2, steps: 3)
        let example = OuterTrainingTests.example
        var fields = example.fields
        fields["plan"] = "Twice: count everything"
        fields.removeValue(forKey: "refined_plan")
        let answerOnly = DataRow(question: example.question, fields: fields)
        let loss = try graph.outerObjective(example, options: options, gradient: false).loss
        #expect(try graph.outerObjective(answerOnly, options: options, gradient: false).loss == loss)
        #expect(graph.trainingFields(.rollout(steps: 3)) == ["answer"])
        #expect(graph.trainingFields(.teacherForced) == graph.trainingFields)

        var allRounds = options
        allRounds.finalRoundOnly = false
        #expect(throws: AgentError.self) { try allRounds.validate() }
        var noSteps = options
        noSteps.latentSource = .rollout(steps: 0)
        #expect(throws: AgentError.self) { try noSteps.validate() }
        var exactTeacherForced = options
        exactTeacherForced.latentSource = .teacherForced
        exactTeacherForced.rolloutBackward = .exact
        #expect(throws: AgentError.self) { try exactTeacherForced.validate() }
    }

    @Test("a trainer on answer-only rows lowers their loss and records the latent source")
    func trains() throws {
        let directory = OuterTrainingTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let graph = try TinyGraph.sequential()
        var configuration = OuterTrainingTests.configuration(steps: 12)
        configuration.objective = Self.options(rounds: 2, steps: 3)
        configuration.learningRate = 1e-2
        // Rows with a question and an answer only: teacher-forcing refuses them, rollouts train on them.
        let rows = OuterTrainingTests.data().map { row in
            DataRow(question: row.question, fields: row.fields.filter { $0.key == "answer" })
        }
        let trainer = try OuterTrainer(graph: graph, train: rows, heldOut: rows, configuration: configuration,
                                       output: directory, models: OuterTrainingTests.identities, resume: false)
        let before = try trainer.evaluate()
        try trainer.run()
        let after = try trainer.evaluate()
        #expect(after < before, "loss on the training rows \(before) → \(after)")
        let (manifest, _, _) = try CheckpointStore(directory: directory).load()
        #expect(manifest.arguments["latent_source"] == "rollout-3")
        var teacherForced = configuration
        teacherForced.objective.latentSource = .teacherForced
        #expect(throws: AgentError.self) {
            try OuterTrainer(graph: try TinyGraph.sequential(), train: rows, heldOut: [], configuration: teacherForced,
                             output: directory.appendingPathComponent("tf"), models: OuterTrainingTests.identities, resume: false)
        }
        // Resuming with the other latent source is refused: a different objective.
        #expect(throws: AgentError.self) {
            try OuterTrainer(graph: try TinyGraph.sequential(), train: OuterTrainingTests.data(), heldOut: [], configuration: teacherForced,
                             output: directory, models: OuterTrainingTests.identities, resume: true)
        }
    }
}
