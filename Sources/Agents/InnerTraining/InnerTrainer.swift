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
    /// The fresh link's output gain (the γ of its output LayerNorm, for kinds with one).
    public var outputScale: InnerOutputScale = .embeddingRMS
    public var seed: UInt64 = 42
    public var maximumLength = 2048
    public var checkpointEvery = 100
    public var evaluateEvery = 100
    public var threads = Parallel.defaultThreadCount

    public init(node: String) { self.node = node }

    /// Refuses values training cannot run with, naming the setting (the loop checks its own).
    public func validate() throws(AgentError) {
        try AgentError.check("maximum length", maximumLength, atLeast: 2)
        try AgentError.check("threads", threads, atLeast: 1)
        try AgentError.check("cosine weight", cosineWeight, in: 0...1e3)
        try AgentError.check("MSE weight", mseWeight, in: 0...1e3)
    }
}

/// The gain a fresh inner link's output LayerNorm starts with.
public enum InnerOutputScale: String, Sendable, Codable, CaseIterable {
    /// γ = 1, the reference's initialisation: outputs of norm ≈ √D (≈ 30 for D = 896), about ten
    /// times the token embeddings the link must imitate; the shipped links kept norms of 18–25.
    case unit
    /// γ = the RMS of the model's input embeddings (``Transformer/embeddingRMS(sample:)``), so
    /// the link starts at the scale of the inputs it replaces.
    case embeddingRMS = "embedding"
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

/// Trains one node's inner link (the frozen model's hidden states → its next input embeddings),
/// with checkpoints and exact resume through the shared ``TrainingLoop``.
public final class InnerTrainer {
    public let model: LanguageModel
    public let configuration: InnerTrainingConfiguration
    public let link: InnerLink
    public var store: CheckpointStore { loop.store }
    public let modelIdentity: CheckpointManifest.Model
    public var step: Int { loop.step }
    public var heldOutHistory: [(step: Int, loss: Double)] { loop.heldOutHistory }

    private let training: [InnerTrainingExample]
    private let heldOut: [InnerTrainingExample]
    private var features: [Int: InnerFeatures] = [:]
    private var heldOutFeatures: [InnerFeatures]?
    private let loop: TrainingLoop

    /// Tokenizes the conversations `train` and `heldOut` (e.g. ``AgentGraph/trainingPair(_:row:)``);
    /// with `resume`, continues from the checkpoint in `output` (its configuration must match).
    public init(
        model: LanguageModel, train: [TrainingPair], heldOut: [TrainingPair], configuration: InnerTrainingConfiguration,
        output: URL, modelIdentity: CheckpointManifest.Model, resume: Bool
    ) throws(AgentError) {
        try configuration.validate()
        self.model = model
        self.configuration = configuration
        self.modelIdentity = modelIdentity
        func tokenize(_ pairs: [TrainingPair]) throws(AgentError) -> [InnerTrainingExample] {
            var out: [InnerTrainingExample] = []
            for pair in pairs {
                let example = try InnerTrainingExample(pair: pair, model: model, maximumLength: configuration.maximumLength)
                if !example.pairPositions.isEmpty { out.append(example) }  // truncation left no target tokens
            }
            return out
        }
        training = try tokenize(train)
        self.heldOut = try tokenize(heldOut)
        guard !training.isEmpty else {
            throw .noTrainingPairs(detail: "no row keeps any target token within \(configuration.maximumLength) tokens")
        }
        let c = configuration
        link = InnerLink(kind: c.linkKind, width: model.configuration.width, prefix: "inner.", seed: c.seed)
        if c.outputScale == .embeddingRMS, let norm = link.network.layout.outputNorm,
           let gain = link.parameters[name: "inner." + norm + ".weight"] {
            gain.values = [Float](repeating: model.transformer.embeddingRMS(), count: gain.count)
        }
        let identity = TrainingLoop.Identity(
            kind: "inner", links: [.init(name: "inner", kind: c.linkKind.rawValue, inputWidth: link.width, outputWidth: link.width)],
            models: [modelIdentity], objectiveArguments: [:],
            recordedArguments: ["role": c.node, "mse_weight": "\(c.mseWeight)", "max_length": "\(c.maximumLength)",
                                "output_scale": c.outputScale.rawValue])
        loop = try TrainingLoop(
            parameters: link.parameters, exampleCount: training.count,
            settings: .init(steps: c.steps, batchSize: c.batchSize, learningRate: c.learningRate, warmupSteps: c.warmupSteps,
                            weightDecay: c.weightDecay, clipNorm: c.clipNorm, seed: c.seed, checkpointEvery: c.checkpointEvery,
                            evaluateEvery: c.evaluateEvery),
            identity: identity, output: output, resume: resume)
    }

    /// Runs until `configuration.steps` (or until `progress` returns false, or a step ends with
    /// `drain` requested: that step is checkpointed), checkpointing on the way and at the end.
    public func run(drain: DrainRequest? = nil, progress: (InnerTrainingProgress) -> Bool = { _ in true }) throws(AgentError) {
        try loop.run(accumulate: accumulate, evaluate: heldOut.isEmpty ? nil : { self.evaluate() }, drain: drain) { r in
            progress(InnerTrainingProgress(
                step: r.step, totalSteps: r.totalSteps, loss: r.loss, learningRate: r.learningRate, gradientNorm: r.gradientNorm,
                heldOutLoss: r.heldOutLoss, heldOutCosine: r.heldOutLoss.map { _ in evaluate(cosineOnly: true) },
                tokensPerSecond: r.workPerSecond, elapsedSeconds: r.elapsedSeconds, etaSeconds: r.etaSeconds, checkpointed: r.checkpointed))
        }
    }

    /// The batch's gradient into the link; its work is the tokens of examples seen the first time
    /// (feature extraction, the expensive part, runs once per example).
    private func accumulate(_ batch: [Int]) throws(AgentError) -> TrainingLoop.Step {
        let tokens = batch.reduce(0) { $0 + (features[$1] == nil ? training[$1].tokens.count : 0) }
        var hidden: [Float] = [], targets: [Float] = []
        for i in batch {
            let f = features[i] ?? InnerFeatures(example: training[i], transformer: model.transformer, threads: configuration.threads)
            features[i] = f
            hidden += f.hidden
            targets += f.targets
        }
        let d = link.width, rows = hidden.count / d
        guard rows > 0 else { throw .noTrainingPairs(detail: "a batch has no assistant tokens") }
        let (prediction, context) = link.forward(hidden, rows: rows)
        var gradient = [Float](repeating: 0, count: rows * d)
        let loss = objective(prediction: prediction, targets: targets, rows: rows, gradient: &gradient)
        guard loss.isFinite else { throw .nonFiniteLoss(step: step) }
        _ = link.backward(context, outputGradient: gradient)
        return TrainingLoop.Step(loss: loss, work: tokens)
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
}
