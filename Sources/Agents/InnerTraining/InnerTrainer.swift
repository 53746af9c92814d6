// Provenance: the inner-loop training recipe of spec §1.3 (frozen model, only the inner link
// trains; loss = w_cos·mean(1 − cos(R_in(H_t), E_{t+1})) + w_mse·mean((R_in(H_t) − E_{t+1})²) over
// assistant pairs of a batch; AdamW β (0.9, 0.95), warmup + cosine, global clip 1.0).
import Foundation
import Kernels
import Links
import Models
import RoleData
import Training

/// Settings of one inner-link training run (what `rmas train inner` exposes).
public struct InnerTrainingConfiguration: Sendable, Codable, Equatable {
    /// The node whose link this is (recorded in the checkpoint as its "role").
    public var node: String
    public var linkKind: InnerLinkKind = .default
    public var steps = 2000
    /// Examples per step; the loss is the mean over all their assistant pairs.
    public var batchSize = 4
    public var learningRate = 5e-4
    public var warmupSteps = 10
    public var weightDecay = 0.0
    public var clipNorm = 1.0
    public var cosineWeight: Float = 1
    public var mseWeight: Float = 0
    public var seed: UInt64 = 42
    public var maximumLength = 2048
    public var checkpointEvery = 100
    public var evaluateEvery = 100
    public var threads = Parallel.defaultThreadCount

    public init(node: String) { self.node = node }
}

/// What a training run reports after each step (the library never prints; the CLI draws this).
public struct InnerTrainingProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var loss: Double
    public var learningRate: Double
    public var gradientNorm: Float
    /// Held-out loss, when this step evaluated it.
    public var heldOutLoss: Double?
    /// Its cosine part alone, mean(1 − cos) (equal to ``heldOutLoss`` when the MSE weight is 0).
    public var heldOutCosine: Double?
    /// Tokens of this run's examples processed per second (feature extraction included).
    public var tokensPerSecond: Double
    public var elapsedSeconds: Double
    public var etaSeconds: Double
    public var checkpointed: Bool
}

/// Trains one agent's inner link on role data, with checkpoints and exact resume.
public final class InnerTrainer {
    public let model: LanguageModel
    public let configuration: InnerTrainingConfiguration
    public let link: InnerLink
    public let store: CheckpointStore
    public let modelIdentity: CheckpointManifest.Model
    public private(set) var step = 0
    public private(set) var heldOutHistory: [(step: Int, loss: Double)] = []

    private let training: [InnerTrainingExample]
    private let heldOut: [InnerTrainingExample]
    private var features: [Int: InnerFeatures] = [:]
    private var heldOutFeatures: [InnerFeatures]?
    private var optimizer: AdamW
    private let schedule: WarmupCosineSchedule
    private let order: DataOrder

    /// Tokenizes the conversations `train` and `heldOut` (e.g. ``AgentGraph/trainingPair(_:row:)``);
    /// with `resume`, continues from the checkpoint in `output` (its configuration must match).
    public init(
        model: LanguageModel, train: [TrainingPair], heldOut: [TrainingPair], configuration: InnerTrainingConfiguration,
        output: URL, modelIdentity: CheckpointManifest.Model, resume: Bool
    ) throws(AgentError) {
        self.model = model
        self.configuration = configuration
        self.modelIdentity = modelIdentity
        store = CheckpointStore(directory: output)
        func tokenize(_ pairs: [TrainingPair]) throws(AgentError) -> [InnerTrainingExample] {
            var out: [InnerTrainingExample] = []
            for pair in pairs {
                let example = try InnerTrainingExample(pair: pair, model: model,
                                                       maximumLength: configuration.maximumLength)
                if !example.pairPositions.isEmpty { out.append(example) }  // truncation left no target tokens
            }
            return out
        }
        training = try tokenize(train)
        self.heldOut = try tokenize(heldOut)
        guard !training.isEmpty else {
            throw .noTrainingPairs(detail: "no row keeps any target token within \(configuration.maximumLength) tokens")
        }
        link = InnerLink(kind: configuration.linkKind, width: model.configuration.width, prefix: "inner.", seed: configuration.seed)
        optimizer = AdamW(parameters: link.parameters, configuration: .init(beta1: 0.9, beta2: 0.95, epsilon: 1e-8,
                                                                           weightDecay: configuration.weightDecay))
        schedule = WarmupCosineSchedule(peak: configuration.learningRate, warmupSteps: configuration.warmupSteps,
                                        totalSteps: configuration.steps)
        order = DataOrder(count: training.count, seed: configuration.seed)
        if resume, store.exists { try restore() }
    }

    private func restore() throws(AgentError) {
        do {
            let (manifest, weights, moments) = try store.load()
            guard manifest.kind == "inner", manifest.links.first?.kind == configuration.linkKind.rawValue,
                  manifest.models.first?.sha256 == modelIdentity.sha256 else {
                throw AgentError.checkpoint("\(store.directory.path) holds a different run (link kind or model differ)")
            }
            try CheckpointStore.restore(link.parameters, from: weights)
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
    public func run(progress: (InnerTrainingProgress) -> Bool = { _ in true }) throws(AgentError) {
        let clock = ContinuousClock(), start = clock.now
        var tokens = 0
        let startStep = step
        while step < configuration.steps {
            let batch = order.indices(step: step, batchSize: configuration.batchSize)
            tokens += batch.reduce(0) { $0 + (features[$1] == nil ? training[$1].tokens.count : 0) }
            let (loss, norm) = try trainStep(batch)
            step += 1
            var heldOutLoss: Double?, heldOutCosine: Double?
            if step % configuration.evaluateEvery == 0 || step == configuration.steps, !heldOut.isEmpty {
                heldOutLoss = evaluate()
                heldOutCosine = evaluate(cosineOnly: true)
                heldOutHistory.append((step, heldOutLoss!))
            }
            let checkpointed = step % configuration.checkpointEvery == 0 || step == configuration.steps
            if checkpointed { try save(metrics: ["loss": loss, "held_out_loss": heldOutLoss ?? .nan]) }
            let elapsed = (clock.now - start).seconds
            let rate = Double(step - startStep) / max(elapsed, 1e-9)
            let report = InnerTrainingProgress(
                step: step, totalSteps: configuration.steps, loss: loss, learningRate: schedule.learningRate(at: step - 1),
                gradientNorm: norm, heldOutLoss: heldOutLoss, heldOutCosine: heldOutCosine, tokensPerSecond: Double(tokens) / max(elapsed, 1e-9),
                elapsedSeconds: elapsed, etaSeconds: Double(configuration.steps - step) / max(rate, 1e-9), checkpointed: checkpointed)
            if !progress(report) { break }
        }
    }

    /// One optimizer step on `batch`; returns the batch loss and the pre-clip gradient norm.
    private func trainStep(_ batch: [Int]) throws(AgentError) -> (Double, Float) {
        var hidden: [Float] = [], targets: [Float] = []
        for i in batch {
            let f = features[i] ?? InnerFeatures(example: training[i], transformer: model.transformer, threads: configuration.threads)
            features[i] = f
            hidden += f.hidden
            targets += f.targets
        }
        let d = link.width, rows = hidden.count / d
        guard rows > 0 else { throw .noTrainingPairs(detail: "a batch has no assistant tokens") }
        link.parameters.zeroGradients()
        let (prediction, context) = link.forward(hidden, rows: rows)
        var gradient = [Float](repeating: 0, count: rows * d)
        let loss = objective(prediction: prediction, targets: targets, rows: rows, gradient: &gradient)
        guard loss.isFinite else { throw .nonFiniteLoss(step: step) }
        _ = link.backward(context, outputGradient: gradient)
        do {
            let norm = try GradientClipping.clipGlobalNorm(link.parameters, maxNorm: configuration.clipNorm)
            try optimizer.step(link.parameters, learningRate: schedule.learningRate(at: step))
            return (loss, norm)
        } catch {
            throw .nonFiniteLoss(step: step)
        }
    }

    /// w_cos·mean(1 − cos) + w_mse·mean over rows and width of the squared error; adds its
    /// gradient w.r.t. the prediction into `gradient`.
    func objective(prediction: [Float], targets: [Float], rows: Int, gradient: inout [Float], cosineOnly: Bool = false) -> Double {
        let d = link.width
        var c = configuration
        if cosineOnly { (c.cosineWeight, c.mseWeight) = (1, 0) }
        var loss = Double(c.cosineWeight) * CosineDistance.lossAndGradient(
            prediction: prediction, target: targets, rows: rows, width: d, scale: c.cosineWeight / Float(rows),
            predictionGradient: &gradient) / Double(rows)
        if c.mseWeight > 0 {
            loss += Double(c.mseWeight) * SquaredError.lossAndGradient(
                prediction: prediction, target: targets, rows: rows, width: d, scale: c.mseWeight / Float(rows * d),
                predictionGradient: &gradient) / Double(rows * d)
        }
        return loss
    }

    /// Mean objective (or its cosine part alone) over every held-out pair (no gradient step).
    public func evaluate(cosineOnly: Bool = false) -> Double {
        if heldOutFeatures == nil {
            heldOutFeatures = heldOut.map { InnerFeatures(example: $0, transformer: model.transformer, threads: configuration.threads) }
        }
        let all = heldOutFeatures!
        let hidden = all.flatMap(\.hidden), targets = all.flatMap(\.targets), rows = hidden.count / link.width
        guard rows > 0 else { return .nan }
        var scratch = [Float](repeating: 0, count: hidden.count)
        return objective(prediction: link(hidden, rows: rows), targets: targets, rows: rows, gradient: &scratch, cosineOnly: cosineOnly)
    }

    private func save(metrics: [String: Double]) throws(AgentError) {
        let c = configuration
        let manifest = CheckpointManifest(
            kind: "inner", step: step,
            links: [.init(name: "inner", kind: c.linkKind.rawValue, inputWidth: link.width, outputWidth: link.width)],
            models: [modelIdentity],
            arguments: ["role": c.node, "steps": "\(c.steps)", "batch_size": "\(c.batchSize)", "lr": "\(c.learningRate)",
                        "warmup": "\(c.warmupSteps)", "seed": "\(c.seed)", "mse_weight": "\(c.mseWeight)",
                        "max_length": "\(c.maximumLength)", "train_examples": "\(training.count)"],
            resume: ["step": step], metrics: metrics.filter { $0.value.isFinite })
        do {
            try store.save(manifest, parameters: link.parameters, optimizer: optimizer.state)
        } catch {
            throw .checkpoint("\(error)")
        }
    }
}

/// The example order: a fresh seeded permutation per epoch, a pure function of (seed, step), so a
/// resumed run sees exactly the batches an uninterrupted one would.
struct DataOrder: Sendable {
    let count: Int
    let seed: UInt64

    func permutation(epoch: Int) -> [Int] {
        var rng = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1))
        var p = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { p.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return p
    }

    func indices(step: Int, batchSize: Int) -> [Int] {
        (0..<batchSize).map { j in
            let k = step * batchSize + j
            return permutation(epoch: k / count)[k % count]
        }
    }
}
