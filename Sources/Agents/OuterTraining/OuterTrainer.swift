// Provenance: the outer-loop training recipe of spec §2.4 (AdamW β (0.9, 0.95) on the graph's outer
// links only, warmup + cosine to 0, global clip 1.0, per-example graphs whose losses are averaged
// over the batch); checkpoints and resume as the inner trainer's.
import Foundation
import Kernels
import Links
import Models
import RoleData
import Training

/// Settings of one outer-loop run (what `rmas train outer` exposes).
public struct OuterTrainingConfiguration: Sendable, Codable, Equatable {
    public var objective = OuterObjectiveOptions()
    public var steps = 1000
    /// Examples per step; the loss is their mean.
    public var batchSize = 2
    public var learningRate = 5e-4
    public var warmupSteps = 10
    public var weightDecay = 0.0
    public var clipNorm = 1.0
    public var seed: UInt64 = 42
    public var checkpointEvery = 50
    public var evaluateEvery = 50

    public init() {}
}

/// What a run reports after each step.
public struct OuterTrainingProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var loss: Double
    public var learningRate: Double
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
    /// Per edge (by name, "planner_to_refiner"), per round (index round − 1): the norm of that round's contribution to the
    /// edge's gradient, averaged over the batch's examples.
    public var roundGradientNorms: [String: [Double]]
    public var heldOutLoss: Double?
    /// With a latent margin: the batch's mean answer CE under its own messages and under the
    /// donors' (the step's `loss` is the margin objective), and, when evaluated, the held-out
    /// rows' CE under the next held-out row's messages (`heldOutLoss` stays the own-message CE).
    public var margin: (own: Double, donor: Double, heldOutDonor: Double?)?
    public var positionsPerSecond: Double
    public var elapsedSeconds: Double
    public var etaSeconds: Double
    public var checkpointed: Bool
}

/// Trains the outer links of an agent graph on data rows through the shared ``TrainingLoop``;
/// the LLMs and inner links stay frozen.
public final class OuterTrainer {
    public let graph: AgentGraph
    public let configuration: OuterTrainingConfiguration
    public var store: CheckpointStore { loop.store }
    public let models: [CheckpointManifest.Model]
    public var step: Int { loop.step }
    public var heldOutHistory: [(step: Int, loss: Double)] { loop.heldOutHistory }

    private let training: [DataRow]
    private let heldOut: [DataRow]
    private let loop: TrainingLoop

    /// Rows lacking a target field the objective reads (or with it empty) are skipped, as the
    /// reference skips rows with an empty field. With `resume`, continues from the checkpoint in `output`.
    public init(
        graph: AgentGraph, train: [DataRow], heldOut: [DataRow], configuration: OuterTrainingConfiguration,
        output: URL, models: [CheckpointManifest.Model], resume: Bool
    ) throws(AgentError) {
        try configuration.objective.validate()
        let fields = graph.trainingFields(configuration.objective.latentSource)
        if configuration.objective.latentSource == .teacherForced, fields.count != graph.nodes.count {
            throw .invalidArgument("every node needs a \"target\" field to train on (missing: \(graph.nodes.filter { $0.target == nil }.map(\.id).joined(separator: ", ")))")
        }
        guard !fields.isEmpty else { throw .invalidArgument("the answering node '\(graph.nodes[graph.answer].id)' needs a \"target\" field to train on") }
        func complete(_ row: DataRow) -> Bool {
            fields.allSatisfy { !(row[$0] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        }
        self.graph = graph
        self.configuration = configuration
        self.models = models
        training = train.filter(complete)
        self.heldOut = heldOut.filter(complete)
        guard !training.isEmpty else { throw .noTrainingPairs(detail: "no row has all of \(fields.joined(separator: ", "))") }
        if configuration.objective.latentMargin != nil, training.count < 2 {
            throw .noTrainingPairs(detail: "the latent margin lends each row another row's messages: it needs at least 2 training rows, the data gives \(training.count)")
        }
        let c = configuration, o = c.objective
        let links = graph.edges.indices.map { k in
            let link = graph.edges[k].link
            return CheckpointManifest.Link(name: graph.edgeName(k), kind: link.kind.rawValue, inputWidth: link.inputWidth,
                                           outputWidth: link.outputWidth)
        }
        var objective = ["rounds": "\(o.rounds)", "max_latent_rows": "\(o.maximumLatentRows)", "final_round_only": "\(o.finalRoundOnly)",
                         "earlier_round_weight": "\(o.earlierRoundWeight)", "max_length": "\(o.maximumLength)"]
        // Recorded only when set, so runs from before the option resume unchanged.
        if let window = o.backpropagatedRounds, window < o.rounds { objective["backprop_rounds"] = "\(window)" }
        if o.latentSource != .teacherForced { objective["latent_source"] = o.latentSource.name }
        if o.rolloutBackward != .truncated { objective["rollout_backward"] = o.rolloutBackward.rawValue }
        if let term = o.latentMargin {
            objective["latent_margin"] = "\(term.margin)"
            objective["latent_margin_weight"] = "\(term.weight)"
        }
        objective.merge(TrainingLoop.Identity.productArguments(o.precision)) { a, _ in a }
        if o.precision.gemmFormat == .bfloat16 { BLAS.letIdleWorkersSleep() }  // BLAS serves only attention then
        loop = try TrainingLoop(
            parameters: graph.outerParameters, exampleCount: training.count,
            settings: .init(steps: c.steps, batchSize: c.batchSize, learningRate: c.learningRate, warmupSteps: c.warmupSteps,
                            weightDecay: c.weightDecay, clipNorm: c.clipNorm, seed: c.seed, checkpointEvery: c.checkpointEvery,
                            evaluateEvery: c.evaluateEvery),
            identity: .init(kind: "outer", links: links, models: models, objectiveArguments: objective, recordedArguments: [:]),
            output: output, resume: resume)
    }

    /// Runs until `configuration.steps` (or until `progress` returns false, or a step ends with
    /// `drain` requested: that step is checkpointed), checkpointing on the way and at the end.
    public func run(drain: DrainRequest? = nil, progress: (OuterTrainingProgress) -> Bool = { _ in true }) throws(AgentError) {
        try loop.run(accumulate: accumulate, evaluate: heldOut.isEmpty ? nil : { () throws(AgentError) in try self.evaluate() }, drain: drain) { r in
            progress(OuterTrainingProgress(
                step: r.step, totalSteps: r.totalSteps, loss: r.loss, learningRate: r.learningRate, gradientNorm: r.gradientNorm,
                roundGradientNorms: r.details, heldOutLoss: r.heldOutLoss,
                margin: stepMargin.map { ($0.own, $0.donor, r.heldOutLoss == nil ? nil : heldOutDonorLoss) },
                positionsPerSecond: r.workPerSecond, elapsedSeconds: r.elapsedSeconds, etaSeconds: r.etaSeconds,
                checkpointed: r.checkpointed))
        }
    }

    /// A margin run's last step: the batch's mean CE under its own and under the donors' messages.
    private var stepMargin: (own: Double, donor: Double)?
    /// The held-out rows' CE under another held-out row's messages at the last evaluation (margin runs).
    private var heldOutDonorLoss: Double?

    /// One batch: per-example graphs, each loss scaled by 1/B; per-edge per-round norms averaged.
    private func accumulate(_ batch: [Int]) throws(AgentError) -> TrainingLoop.Step {
        var loss = 0.0, positions = 0, own = 0.0, donor = 0.0
        let rounds = configuration.objective.rounds
        var norms = Dictionary(uniqueKeysWithValues: graph.edges.indices.map { (graph.edgeName($0), [Double](repeating: 0, count: rounds)) })
        let scale = 1 / Float(batch.count), n = Double(batch.count)
        for i in batch {
            let sampleLoss: Double, sampleNorms: [String: [Double]]
            do {
                if configuration.objective.latentMargin != nil {
                    let lender = training[marginDonor(of: i, step: step, count: training.count, seed: configuration.seed)]
                    let result = try graph.outerObjective(training[i], marginAgainst: lender, options: configuration.objective, scale: scale)
                    (sampleLoss, sampleNorms) = (result.loss, result.gradientNorms)
                    positions += result.positions
                    own += result.ownLoss / n
                    donor += result.donorLoss / n
                } else {
                    let result = try graph.outerObjective(training[i], options: configuration.objective, scale: scale)
                    (sampleLoss, sampleNorms) = (result.loss, result.gradientNorms)
                    positions += result.positions
                }
            } catch .nonFiniteLoss {
                throw .nonFiniteLoss(step: step)
            }
            loss += sampleLoss / n
            for (edge, values) in sampleNorms {
                for r in values.indices { norms[edge]![r] += values[r] / n }
            }
        }
        if configuration.objective.latentMargin != nil { stepMargin = (own, donor) }
        return TrainingLoop.Step(loss: loss, work: positions, details: norms)
    }

    /// Mean answer CE over the held-out rows under their own messages (forward only; a margin
    /// run's hinge is not part of it, so runs with and without one compare). A margin run also
    /// records their CE under the next held-out row's messages (``OuterTrainingProgress/margin``).
    public func evaluate() throws(AgentError) -> Double {
        let options = configuration.objective
        // The margin objective's parts are the plain CE and the latent-shuffled control's CE, from
        // two loops per row (the control alone would run the donor's loop a second time).
        let withDonor = options.latentMargin != nil && heldOut.count > 1
        var total = 0.0, donated = 0.0
        for (j, row) in heldOut.enumerated() {
            if withDonor {
                let parts = try graph.outerObjective(row, marginAgainst: heldOut[(j + 1) % heldOut.count], options: options, gradient: false)
                total += parts.ownLoss
                donated += parts.donorLoss
            } else {
                total += try graph.outerObjective(row, options: options, gradient: false).loss
            }
        }
        if withDonor { heldOutDonorLoss = donated / Double(heldOut.count) }
        return total / Double(max(heldOut.count, 1))
    }
}

extension TrainingLoop.Identity {
    /// The checkpoint entry of the frozen models' product format (``OuterObjectiveOptions/precision``,
    /// ``PromptTuningConfiguration/precision``): `matmul: bfloat16` where the products really run
    /// in bf16, nothing for fp32, so runs from before the option resume unchanged and a bf16 run
    /// resumed where the CPU lacks AVX512-BF16 is refused.
    static func productArguments(_ precision: ActivationPrecision) -> [String: String] {
        precision.gemmFormat == .float32 ? [:] : ["matmul": "\(precision.gemmFormat)"]
    }
}
