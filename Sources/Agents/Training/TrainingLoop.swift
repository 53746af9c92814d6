// Provenance: the training recipe shared by inner- and outer-link training (spec §1.3, §2.4): AdamW
// β (0.9, 0.95), warmup + cosine to 0, global gradient clipping, a seeded per-epoch data order,
// periodic held-out evaluation, atomic checkpoints (weights + moments) and exact resume.
import Foundation
import Training

/// The one step loop: what is trained and how one batch's gradient is made come from the
/// objective (a closure); everything else — order, optimizer, schedule, clipping, checkpoints,
/// resume, progress — is here.
final class TrainingLoop {
    /// The recipe's settings (both trainers expose them).
    struct Settings {
        var steps: Int
        var batchSize: Int
        var learningRate: Double
        var warmupSteps: Int
        var weightDecay: Double
        var clipNorm: Double
        var seed: UInt64
        var checkpointEvery: Int
        var evaluateEvery: Int

        /// Refuses values the loop cannot run with, naming the setting and its allowed range.
        func validate() throws(AgentError) {
            try AgentError.check("steps", steps, atLeast: 1)
            try AgentError.check("batch size", batchSize, atLeast: 1)
            try AgentError.check("warmup steps", warmupSteps, atLeast: 0)
            try AgentError.check("checkpoint interval", checkpointEvery, atLeast: 1)
            try AgentError.check("evaluation interval", evaluateEvery, atLeast: 1)
            try AgentError.check("learning rate", learningRate, in: 0...Double.greatestFiniteMagnitude)
            try AgentError.check("weight decay", weightDecay, in: 0...1)
            try AgentError.check("gradient clipping norm", clipNorm, in: 1e-6...1e6)
        }
    }

    /// What a checkpoint records about the run and what a resume must find again.
    struct Identity {
        var kind: String
        var links: [CheckpointManifest.Link]
        var models: [CheckpointManifest.Model]
        /// Arguments that define the objective: a resumed run must have the same values.
        var objectiveArguments: [String: String]
        /// Further arguments recorded for provenance only.
        var recordedArguments: [String: String]
    }

    /// One batch's outcome: its loss, the work done (tokens or positions), per-edge details.
    struct Step {
        var loss: Double
        var work: Int
        var details: [String: [Double]] = [:]
    }

    /// After each step.
    struct Report {
        var step: Int
        var totalSteps: Int
        var loss: Double
        var learningRate: Double
        var gradientNorm: Float
        var heldOutLoss: Double?
        var workPerSecond: Double
        var elapsedSeconds: Double
        var etaSeconds: Double
        var checkpointed: Bool
        var details: [String: [Double]]
    }

    let parameters: ParameterSet
    let settings: Settings
    let identity: Identity
    let store: CheckpointStore
    let exampleCount: Int
    private(set) var step = 0
    private(set) var heldOutHistory: [(step: Int, loss: Double)] = []
    private var optimizer: AdamW
    private let schedule: WarmupCosineSchedule
    private let order: DataOrder
    /// Held for the loop's lifetime: a second writer to the same directory is refused at start.
    private let lock: RunDirectoryLock

    /// Takes `output`'s lock (refused while another run holds it). With `resume`, continues from
    /// the checkpoint there when there is one (it must be of the same kind, links, models and
    /// objective arguments); without it, an existing checkpoint is refused, never overwritten.
    init(parameters: ParameterSet, exampleCount: Int, settings: Settings, identity: Identity, output: URL,
         resume: Bool) throws(AgentError) {
        try settings.validate()
        guard exampleCount >= 1 else { throw .noTrainingPairs(detail: "no training examples") }
        guard settings.batchSize <= exampleCount else {
            throw .invalidArgument("a batch of \(settings.batchSize) needs at least that many training examples; the data gives \(exampleCount)")
        }
        do { lock = try RunDirectoryLock(directory: output) } catch { throw .checkpoint(error.description) }
        store = CheckpointStore(directory: output)
        if store.exists, !resume {
            throw .checkpoint("\(output.path) already holds a checkpoint; resume it, or choose another output directory")
        }
        self.parameters = parameters
        self.settings = settings
        self.identity = identity
        self.exampleCount = exampleCount
        optimizer = AdamW(parameters: parameters, configuration: .init(beta1: 0.9, beta2: 0.95, epsilon: 1e-8,
                                                                      weightDecay: settings.weightDecay))
        schedule = WarmupCosineSchedule(peak: settings.learningRate, warmupSteps: settings.warmupSteps, totalSteps: settings.steps)
        order = DataOrder(count: exampleCount, seed: settings.seed)
        if resume, store.exists { try restore() }
    }

    private func restore() throws(AgentError) {
        do {
            let (manifest, weights, moments) = try store.load()
            guard manifest.kind == identity.kind, manifest.links == identity.links,
                  manifest.models.map(\.sha256) == identity.models.map(\.sha256) else {
                throw AgentError.checkpoint("\(store.directory.path) holds a different run (its kind, links or models differ)")
            }
            for (key, value) in identity.objectiveArguments.sorted(by: { $0.key < $1.key }) where manifest.arguments[key] != value {
                throw AgentError.checkpoint("\(store.directory.path) was trained with \(key) = \(manifest.arguments[key] ?? "?"), this run has \(value)")
            }
            try CheckpointStore.restore(parameters, from: weights)
            if let moments { try optimizer.restore(moments) }
            step = manifest.step
            if let initial = manifest.metrics[Self.initialHeldOutKey] { heldOutHistory = [(0, initial)] }
        } catch let error as AgentError {
            throw error
        } catch {
            throw .checkpoint("\(error)")
        }
    }

    /// Runs until `settings.steps` (or until `progress` returns false, or a step ends with `drain`
    /// requested: that step is checkpointed, so a resume continues exactly). `accumulate` adds one
    /// batch's gradient into the (zeroed) parameters; `evaluate` gives the held-out loss (nil:
    /// none). Checkpoints on the way and at the end.
    func run(
        accumulate: ([Int]) throws(AgentError) -> Step, evaluate: (() throws(AgentError) -> Double)?,
        drain: DrainRequest? = nil, progress: (Report) -> Bool
    ) throws(AgentError) {
        let clock = ContinuousClock(), start = clock.now
        var work = 0
        let startStep = step
        if let evaluate, step == 0, heldOutHistory.isEmpty {
            // The starting point's held-out loss (after any initialisation such as the bridge),
            // so what training adds is separable from where it began; kept in every checkpoint.
            heldOutHistory.append((0, try evaluate()))
        }
        while step < settings.steps {
            let batch = order.indices(step: step, batchSize: settings.batchSize)
            parameters.zeroGradients()
            let result = try accumulate(batch)
            guard result.loss.isFinite else { throw .nonFiniteLoss(step: step) }
            let norm: Float
            do {
                norm = try GradientClipping.clipGlobalNorm(parameters, maxNorm: settings.clipNorm)
                try optimizer.step(parameters, learningRate: schedule.learningRate(at: step))
            } catch {
                throw .nonFiniteLoss(step: step)
            }
            work += result.work
            step += 1
            var heldOutLoss: Double?
            if let evaluate, step % settings.evaluateEvery == 0 || step == settings.steps {
                heldOutLoss = try evaluate()
                heldOutHistory.append((step, heldOutLoss!))
            }
            let draining = drain?.isRequested == true
            let checkpointed = draining || step % settings.checkpointEvery == 0 || step == settings.steps
            if checkpointed { try save(metrics: ["loss": result.loss, "held_out_loss": heldOutLoss ?? .nan]) }
            let elapsed = (clock.now - start).seconds
            let rate = Double(step - startStep) / max(elapsed, 1e-9)
            let report = Report(
                step: step, totalSteps: settings.steps, loss: result.loss, learningRate: schedule.learningRate(at: step - 1),
                gradientNorm: norm, heldOutLoss: heldOutLoss, workPerSecond: Double(work) / max(elapsed, 1e-9), elapsedSeconds: elapsed,
                etaSeconds: Double(settings.steps - step) / max(rate, 1e-9), checkpointed: checkpointed, details: result.details)
            if !progress(report) || draining { break }
        }
    }

    /// The manifest metric holding the held-out loss before the first step.
    static let initialHeldOutKey = "initial_held_out_loss"

    private func save(metrics: [String: Double]) throws(AgentError) {
        var metrics = metrics
        if let initial = heldOutHistory.first, initial.step == 0 { metrics[Self.initialHeldOutKey] = initial.loss }
        let s = settings
        let common = ["steps": "\(s.steps)", "batch_size": "\(s.batchSize)", "lr": "\(s.learningRate)", "warmup": "\(s.warmupSteps)",
                      "seed": "\(s.seed)", "train_examples": "\(exampleCount)"]
        let arguments = identity.objectiveArguments.merging(identity.recordedArguments) { a, _ in a }.merging(common) { a, _ in a }
        let manifest = CheckpointManifest(kind: identity.kind, step: step, links: identity.links, models: identity.models,
                                          arguments: arguments, resume: ["step": step], metrics: metrics.filter { $0.value.isFinite })
        do {
            try store.save(manifest, parameters: parameters, optimizer: optimizer.state)
        } catch {
            throw .checkpoint("\(error)")
        }
    }
}
