import Foundation
@testable import Agents
import Kernels
import Models
import RoleData
import TestSupport
import Testing
import Training

/// The outer objective with a hinge that only the row's own messages can lower (`LatentMargin`).
@Suite("Latent margin objective (tiny models)")
struct LatentMarginTests {
    static func options(rounds: Int, rollout: Bool, margin: Double, weight: Double = 0.5) -> OuterObjectiveOptions {
        var o = rollout ? RolloutObjectiveTests.options(rounds: rounds, steps: 1) : OuterTrainingTests.options(rounds: rounds)
        o.latentMargin = LatentMargin(margin: margin, weight: weight)
        return o
    }

    @Test("its parts are the plain objective and the latent-shuffled control; the loss is own + w · max(0, δ + own − donor)",
          arguments: [(1, false), (2, false), (2, true)])
    func decomposes(rounds: Int, rollout: Bool) throws {
        let graph = try TinyGraph.sequential()
        let row = OuterTrainingTests.example, donor = OuterTrainingTests.otherExample
        var plain = Self.options(rounds: rounds, rollout: rollout, margin: 0)
        plain.latentMargin = nil
        let own = try graph.outerObjective(row, options: plain, gradient: false).loss
        let shuffled = try graph.outerObjective(row, options: plain, gradient: false, latentDonor: donor).loss
        #expect(own != shuffled)
        for margin in [0.0, abs(own - shuffled) / 2, 5.0] {
            let result = try graph.outerObjective(row, marginAgainst: donor, options: Self.options(rounds: rounds, rollout: rollout, margin: margin),
                                                  gradient: false)
            #expect(result.ownLoss == own && result.donorLoss == shuffled)
            let hinge = margin + own - shuffled
            #expect(result.active == (hinge > 0))
            #expect(abs(result.loss - (own + 0.5 * max(0, hinge))) <= 1e-12 * result.loss)
        }
        // The row as its own donor: both conversations are the same, the hinge is the margin.
        let selfDonor = try graph.outerObjective(row, marginAgainst: row, options: Self.options(rounds: rounds, rollout: rollout, margin: 0.25),
                                                 gradient: false)
        #expect(selfDonor.donorLoss == selfDonor.ownLoss && selfDonor.active)
    }

    /// ⟨∇L, v⟩ from one backward of the margin objective against the five-point central difference
    /// of L along a random unit v over each edge's parameters, with the hinge active (the donor's
    /// path, with its negative sign, is in the gradient) and inactive.
    @Test("its gradients match finite differences, hinge active and not", arguments: [(1, false, 5.0), (2, false, 5.0), (2, true, 5.0), (1, false, 0.0)])
    func gradientCheck(rounds: Int, rollout: Bool, margin: Double) throws {
        let graph = try TinyGraph.sequential()
        let row = OuterTrainingTests.example, donor = OuterTrainingTests.otherExample
        let options = Self.options(rounds: rounds, rollout: rollout, margin: margin, weight: 0.5)
        // With δ = 0 the hinge is active only if the donor's messages already help this answer more.
        var active: Bool?
        // Under rollouts the feedback edge's derivative is ~1e-6, at the loss's Float32 noise (its
        // difference quotient changes sign between steps 0.1 and 1.0), so it is checked teacher-forced
        // only; its backward is the plain objective's, checked in RolloutObjectiveTests.
        let feedbackChecked = rounds > 1 && !rollout
        // Steps long enough that Float32 rounding of the loss stays below the derivatives (the
        // feedback edge's is ~7e-5 here), short enough for the stencil (at 0.03 and at 1.0 it
        // drifts by ~10% on the feedback edge; 0.1–0.3 agree).
        let derivatives = try OuterTrainingTests.directionalDerivatives(
            graph, edges: graph.edges.indices.filter { graph.edges[$0].direction != .feedback || feedbackChecked }, seed: 23,
            step: { _ in 0.3 },
            backward: { active = try graph.outerObjective(row, marginAgainst: donor, options: options).active },
            loss: { try graph.outerObjective(row, marginAgainst: donor, options: options, gradient: false).loss })
        if margin > 1 { #expect(active == true) }
        for (edge, analytic, numeric) in derivatives {
            #expect(abs(numeric) > 1e-7, "\(edge) receives a gradient")
            #expect(abs(analytic - numeric) < 5e-2 * abs(numeric) + 1e-7, "\(edge) rounds \(rounds): analytic \(analytic) numeric \(numeric)")
        }
        #expect(derivatives.count == (feedbackChecked ? 3 : 2))
    }

    @Test("donors are other rows, in range, and a pure function of seed, step and row")
    func donors() {
        for count in [2, 3, 7] {
            for step in 0..<20 {
                for i in 0..<count {
                    let d = marginDonor(of: i, step: step, count: count, seed: 42)
                    #expect(d != i && (0..<count).contains(d))
                    #expect(d == marginDonor(of: i, step: step, count: count, seed: 42))
                }
            }
        }
        let picks = Set((0..<40).map { marginDonor(of: 0, step: $0, count: 7, seed: 42) })
        #expect(picks.count == 6, "every other row lends its messages sometime: \(picks)")
    }

    @Test("a margin run logs both losses, resumes to the uninterrupted run's weights, and refuses what it cannot honour")
    func trains() throws {
        let directory = OuterTrainingTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = OuterTrainingTests.configuration(steps: 6)
        configuration.objective.latentMargin = LatentMargin(margin: 2, weight: 1)
        let data = OuterTrainingTests.data(), models = OuterTrainingTests.identities
        let straight = try TinyGraph.sequential()
        var reports: [OuterTrainingProgress] = []
        try OuterTrainer(graph: straight, train: data, heldOut: [OuterTrainingTests.example, OuterTrainingTests.otherExample],
                         configuration: configuration, output: directory.appendingPathComponent("a"), models: models, resume: false)
            .run { reports.append($0); return true }
        #expect(reports.count == 6)
        for r in reports {
            let m = try #require(r.margin)
            #expect(r.roundGradientNorms.keys.sorted() == ["planner_to_refiner", "refiner_to_solver", "solver_to_planner"])
            // δ = 2 keeps the hinge active on these rows: loss = own + (2 + own − donor).
            #expect(abs(r.loss - (m.own + max(0, 2 + m.own - m.donor))) <= 1e-9 * r.loss)
            #expect((r.heldOutLoss == nil) == (m.heldOutDonor == nil))
        }
        let first = try TinyGraph.sequential()
        try OuterTrainer(graph: first, train: data, heldOut: [], configuration: configuration,
                         output: directory.appendingPathComponent("b"), models: models, resume: false).run { $0.step < 3 }
        let resumed = try TinyGraph.sequential()
        try OuterTrainer(graph: resumed, train: data, heldOut: [], configuration: configuration,
                         output: directory.appendingPathComponent("b"), models: models, resume: true).run()
        #expect(straight.outerParameters.map(\.values) == resumed.outerParameters.map(\.values))
        // The margin is part of the run's identity.
        var other = configuration
        other.objective.latentMargin = LatentMargin(margin: 1, weight: 1)
        #expect(throws: AgentError.self) {
            try OuterTrainer(graph: try TinyGraph.sequential(), train: data, heldOut: [], configuration: other,
                             output: directory.appendingPathComponent("b"), models: models, resume: true)
        }
        // One row cannot lend another its messages; earlier rounds' answers are not compared.
        #expect(throws: AgentError.self) {
            try OuterTrainer(graph: try TinyGraph.sequential(), train: [data[0]], heldOut: [], configuration: configuration,
                             output: directory.appendingPathComponent("c"), models: models, resume: false)
        }
        var allRounds = configuration
        allRounds.objective.finalRoundOnly = false
        #expect(throws: AgentError.self) { try allRounds.objective.validate() }
        var negative = configuration
        negative.objective.latentMargin = LatentMargin(margin: -1)
        #expect(throws: AgentError.self) { try negative.objective.validate() }
    }
}
