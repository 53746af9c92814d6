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
    public var positionsPerSecond: Double
    public var elapsedSeconds: Double
    public var etaSeconds: Double
    public var checkpointed: Bool
}

/// Trains the outer links of an agent graph on data rows; the LLMs and inner links stay frozen.
public final class OuterTrainer {
    public let graph: AgentGraph
    public let configuration: OuterTrainingConfiguration
    public let store: CheckpointStore
    public let models: [CheckpointManifest.Model]
    public private(set) var step = 0
    public private(set) var heldOutHistory: [(step: Int, loss: Double)] = []

    private let training: [DataRow]
    private let heldOut: [DataRow]
    private let parameters: ParameterSet
    private var optimizer: AdamW
    private let schedule: WarmupCosineSchedule
    private let order: DataOrder

    /// Rows lacking any node's target field (or with it empty) are skipped, as the reference
    /// skips rows with an empty field. With `resume`, continues from the checkpoint in `output`.
    public init(
        graph: AgentGraph, train: [DataRow], heldOut: [DataRow], configuration: OuterTrainingConfiguration,
        output: URL, models: [CheckpointManifest.Model], resume: Bool
    ) throws(AgentError) {
        let fields = graph.trainingFields
        guard fields.count == graph.nodes.count else {
            throw .invalidArgument("every node needs a \"target\" field to train on (missing: \(graph.nodes.filter { $0.target == nil }.map(\.id).joined(separator: ", ")))")
        }
        func complete(_ row: DataRow) -> Bool {
            fields.allSatisfy { !(row[$0] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        }
        self.graph = graph
        self.configuration = configuration
        self.models = models
        training = train.filter(complete)
        self.heldOut = heldOut.filter(complete)
        guard !training.isEmpty else { throw .noTrainingPairs(detail: "no row has all of \(fields.joined(separator: ", "))") }
        guard configuration.batchSize >= 1, configuration.steps >= 1 else { throw .invalidArgument("steps and batch size must be at least 1") }
        store = CheckpointStore(directory: output)
        parameters = graph.outerParameters
        optimizer = AdamW(parameters: parameters, configuration: .init(beta1: 0.9, beta2: 0.95, epsilon: 1e-8,
                                                                      weightDecay: configuration.weightDecay))
        schedule = WarmupCosineSchedule(peak: configuration.learningRate, warmupSteps: configuration.warmupSteps,
                                        totalSteps: configuration.steps)
        order = DataOrder(count: training.count, seed: configuration.seed)
        if resume, store.exists { try restore() }
    }

    /// The checkpoint's link entries: one per edge.
    private var linkEntries: [CheckpointManifest.Link] {
        graph.edges.indices.map { k in
            let link = graph.edges[k].link
            return .init(name: graph.edgeName(k), kind: link.kind.rawValue, inputWidth: link.inputWidth, outputWidth: link.outputWidth)
        }
    }

    private func restore() throws(AgentError) {
        do {
            let (manifest, weights, moments) = try store.load()
            guard manifest.kind == "outer", manifest.links == linkEntries, manifest.models.map(\.sha256) == models.map(\.sha256) else {
                throw AgentError.checkpoint("\(store.directory.path) holds a different run (links or models differ)")
            }
            for (key, value) in objectiveArguments where manifest.arguments[key] != value {
                throw AgentError.checkpoint("\(store.directory.path) was trained with \(key) = \(manifest.arguments[key] ?? "?"), this run has \(value)")
            }
            try CheckpointStore.restore(parameters, from: weights)
            if let moments { try optimizer.restore(moments) }
            step = manifest.step
        } catch let error as AgentError {
            throw error
        } catch {
            throw .checkpoint("\(error)")
        }
    }

    /// Runs until `configuration.steps` (or until `progress` returns false), checkpointing on the
    /// way and at the end.
    public func run(progress: (OuterTrainingProgress) -> Bool = { _ in true }) throws(AgentError) {
        let clock = ContinuousClock(), start = clock.now
        var positions = 0
        let startStep = step
        while step < configuration.steps {
            let batch = order.indices(step: step, batchSize: configuration.batchSize)
            let (loss, norm, roundNorms, seen) = try trainStep(batch)
            positions += seen
            step += 1
            var heldOutLoss: Double?
            if step % configuration.evaluateEvery == 0 || step == configuration.steps, !heldOut.isEmpty {
                heldOutLoss = try evaluate()
                heldOutHistory.append((step, heldOutLoss!))
            }
            let checkpointed = step % configuration.checkpointEvery == 0 || step == configuration.steps
            if checkpointed { try save(metrics: ["loss": loss, "held_out_loss": heldOutLoss ?? .nan]) }
            let elapsed = (clock.now - start).seconds
            let rate = Double(step - startStep) / max(elapsed, 1e-9)
            let report = OuterTrainingProgress(
                step: step, totalSteps: configuration.steps, loss: loss, learningRate: schedule.learningRate(at: step - 1),
                gradientNorm: norm, roundGradientNorms: roundNorms, heldOutLoss: heldOutLoss,
                positionsPerSecond: Double(positions) / max(elapsed, 1e-9), elapsedSeconds: elapsed,
                etaSeconds: Double(configuration.steps - step) / max(rate, 1e-9), checkpointed: checkpointed)
            if !progress(report) { break }
        }
    }

    /// One optimizer step: per-example graphs, each loss scaled by 1/B.
    private func trainStep(_ batch: [Int]) throws(AgentError) -> (Double, Float, [String: [Double]], Int) {
        parameters.zeroGradients()
        var loss = 0.0, positions = 0
        let rounds = configuration.objective.rounds
        var norms = Dictionary(uniqueKeysWithValues: graph.edges.indices.map { (graph.edgeName($0), [Double](repeating: 0, count: rounds)) })
        let scale = 1 / Float(batch.count)
        for i in batch {
            let result: OuterSampleResult
            do {
                result = try graph.outerObjective(training[i], options: configuration.objective, scale: scale)
            } catch .nonFiniteLoss {
                throw .nonFiniteLoss(step: step)
            }
            loss += result.loss / Double(batch.count)
            positions += result.positions
            for (edge, values) in result.gradientNorms {
                for r in values.indices { norms[edge]![r] += values[r] / Double(batch.count) }
            }
        }
        guard loss.isFinite else { throw .nonFiniteLoss(step: step) }
        do {
            let norm = try GradientClipping.clipGlobalNorm(parameters, maxNorm: configuration.clipNorm)
            try optimizer.step(parameters, learningRate: schedule.learningRate(at: step))
            return (loss, norm, norms, positions)
        } catch {
            throw .nonFiniteLoss(step: step)
        }
    }

    /// Mean objective over the held-out rows (forward only).
    public func evaluate() throws(AgentError) -> Double {
        var total = 0.0
        for row in heldOut {
            total += try graph.outerObjective(row, options: configuration.objective, gradient: false).loss
        }
        return total / Double(max(heldOut.count, 1))
    }

    /// The arguments that define the objective: a resumed run must have the same.
    private var objectiveArguments: [String: String] {
        let o = configuration.objective
        return ["rounds": "\(o.rounds)", "max_latent_rows": "\(o.maximumLatentRows)", "final_round_only": "\(o.finalRoundOnly)",
                "earlier_round_weight": "\(o.earlierRoundWeight)", "max_length": "\(o.maximumLength)"]
    }

    private func save(metrics: [String: Double]) throws(AgentError) {
        let c = configuration
        let manifest = CheckpointManifest(
            kind: "outer", step: step, links: linkEntries, models: models,
            arguments: objectiveArguments.merging(
                ["steps": "\(c.steps)", "batch_size": "\(c.batchSize)", "lr": "\(c.learningRate)", "warmup": "\(c.warmupSteps)",
                 "seed": "\(c.seed)", "train_examples": "\(training.count)"]) { a, _ in a },
            resume: ["step": step], metrics: metrics.filter { $0.value.isFinite })
        do {
            try store.save(manifest, parameters: parameters, optimizer: optimizer.state)
        } catch {
            throw .checkpoint("\(error)")
        }
    }
}
