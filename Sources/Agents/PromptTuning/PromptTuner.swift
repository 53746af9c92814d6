// Provenance: prompt tuning's objective (Lester et al. 2021) on this project's teacher-forced
// answer CE (the outer objective's final term, spec §2.4) with the shared training recipe
// (TrainingLoop: AdamW, warmup + cosine, clipping, checkpoints, exact resume).
import Foundation
import Kernels
import Models
import RoleData
import Training

/// Settings of a prompt-tuning run (what `rmas train prompt` exposes).
public struct PromptTuningConfiguration: Sendable, Equatable {
    /// k soft rows.
    public var rows = 16
    public var steps = 1000
    public var batchSize = 2
    /// Prompt tuning wants a larger rate than link training (the rows start as token embeddings).
    public var learningRate = 3e-3
    public var warmupSteps = 10
    public var clipNorm = 1.0
    public var seed: UInt64 = 42
    public var checkpointEvery = 50
    public var evaluateEvery = 50
    /// Teacher-forced conversations longer than this are cut from the left.
    public var maximumLength = 4096
    public var keepActivations = false
    /// The frozen model's multi-position products (as ``OuterObjectiveOptions/precision``).
    public var precision = ActivationPrecision.float32
    public var threads = Parallel.defaultThreadCount

    public init() {}
}

/// What a prompt-tuning run reports after each step.
public struct PromptTuningProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var loss: Double
    public var learningRate: Double
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
    public var heldOutLoss: Double?
    /// Positions of the conversations per second.
    public var tokensPerSecond: Double
    public var elapsedSeconds: Double
    public var etaSeconds: Double
    public var checkpointed: Bool
}

/// Trains a ``SoftPrompt`` for the answering node of a graph on its target field (the answer),
/// with the single-agent prompt: the tuned single-agent baseline.
public final class PromptTuner {
    /// The checkpoint kind.
    public static let checkpointKind = "soft_prompt"

    public let graph: AgentGraph
    public let node: Int
    public let prompt: SoftPrompt
    public let configuration: PromptTuningConfiguration
    public var step: Int { loop.step }
    public var heldOutHistory: [(step: Int, loss: Double)] { loop.heldOutHistory }

    private let training: [DataRow]
    private let heldOut: [DataRow]
    private let loop: TrainingLoop

    /// Rows without the node's target (or the question) are skipped. With `resume`, continues
    /// from the checkpoint in `output`. `initial` (another run's rows, e.g. loaded with
    /// ``SoftPrompt/init(checkpoint:width:)``) replaces the vocabulary initialisation of a new run:
    /// its values are copied, the optimizer starts fresh at step 0; a resume ignores it.
    public init(
        graph: AgentGraph, node: Int, train: [DataRow], heldOut: [DataRow], configuration c: PromptTuningConfiguration,
        output: URL, model identity: CheckpointManifest.Model, resume: Bool, initial: SoftPrompt? = nil
    ) throws(AgentError) {
        try AgentError.check("soft prompt rows", c.rows, atLeast: 1)
        try AgentError.check("maximum length", c.maximumLength, atLeast: 2)
        guard graph.nodes.indices.contains(node), let field = graph.nodes[node].target else {
            throw .invalidArgument("the tuned node needs a \"target\" field to train on")
        }
        func complete(_ row: DataRow) -> Bool {
            !(row[field] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && !row.question.isEmpty
        }
        training = train.filter(complete)
        self.heldOut = heldOut.filter(complete)
        guard !training.isEmpty else { throw .noTrainingPairs(detail: "no row has a question and \(field)") }
        self.graph = graph
        self.node = node
        self.configuration = c
        let model = graph.nodes[node].model
        prompt = SoftPrompt(rows: c.rows, model: model, seed: c.seed)
        if let initial {
            guard initial.rows == c.rows, initial.width == prompt.width else {
                throw .invalidArgument("the initial soft prompt is \(initial.rows) × \(initial.width), this run needs \(c.rows) × \(prompt.width)")
            }
            prompt.parameter.values = initial.parameter.values
        }
        let link = CheckpointManifest.Link(name: SoftPrompt.parameterName, kind: Self.checkpointKind, inputWidth: c.rows,
                                           outputWidth: model.configuration.width)
        if c.precision.gemmFormat == .bfloat16 { BLAS.letIdleWorkersSleep() }  // BLAS serves only attention then
        loop = try TrainingLoop(
            parameters: try! ParameterSet([prompt.parameter]), exampleCount: training.count,  // one name: cannot clash
            settings: .init(steps: c.steps, batchSize: c.batchSize, learningRate: c.learningRate, warmupSteps: c.warmupSteps,
                            weightDecay: 0, clipNorm: c.clipNorm, seed: c.seed, checkpointEvery: c.checkpointEvery,
                            evaluateEvery: c.evaluateEvery),
            identity: .init(kind: Self.checkpointKind, links: [link], models: [identity],
                            objectiveArguments: ["node": graph.nodes[node].id, "rows": "\(c.rows)", "max_length": "\(c.maximumLength)",
                                                 "single_prompt": graph.definition.singlePrompt]
                                .merging(TrainingLoop.Identity.productArguments(c.precision)) { a, _ in a },
                            recordedArguments: [:]),
            output: output, resume: resume)
    }

    /// Runs until `configuration.steps` (or until `progress` returns false, or a step ends with
    /// `drain` requested: that step is checkpointed), checkpointing on the way.
    public func run(drain: DrainRequest? = nil, progress: (PromptTuningProgress) -> Bool = { _ in true }) throws(AgentError) {
        try loop.run(accumulate: accumulate, evaluate: heldOut.isEmpty ? nil : { () throws(AgentError) in try self.evaluate() }, drain: drain) { r in
            progress(PromptTuningProgress(step: r.step, totalSteps: r.totalSteps, loss: r.loss, learningRate: r.learningRate,
                                      gradientNorm: r.gradientNorm, heldOutLoss: r.heldOutLoss, tokensPerSecond: r.workPerSecond,
                                      elapsedSeconds: r.elapsedSeconds, etaSeconds: r.etaSeconds, checkpointed: r.checkpointed))
        }
    }

    private func accumulate(_ batch: [Int]) throws(AgentError) -> TrainingLoop.Step {
        var loss = 0.0, positions = 0
        for i in batch {
            let (l, n) = try objective(training[i], scale: 1 / Float(batch.count), gradient: true)
            loss += l / Double(batch.count)
            positions += n
        }
        return TrainingLoop.Step(loss: loss, work: positions)
    }

    /// Mean answer CE over the held-out rows (forward only).
    public func evaluate() throws(AgentError) -> Double {
        var total = 0.0
        for row in heldOut { total += try objective(row, scale: 1, gradient: false).loss }
        return total / Double(max(heldOut.count, 1))
    }

    /// CE of the node's target after the single prompt + soft rows; with `gradient`, adds
    /// `scale` · ∂CE/∂rows into the parameter's gradient. Only positions from the rows on are
    /// trained (the prompt before them gets a plain forward).
    func objective(_ row: DataRow, scale: Float, gradient: Bool) throws(AgentError) -> (loss: Double, positions: Int) {
        let model = graph.nodes[node].model, transformer = model.transformer, d = model.configuration.width
        let user = SoftPrompt.userPrompt(graph.singleUserPrompt(question: row.question))
        let conversation = try TeacherForcedPrompt(model: model, system: graph.systemPrompt, user: user, target: row[graph.nodes[node].target!]!,
                                                   latents: [SoftPrompt.marker: prompt.parameter.values],
                                                   maximumLength: configuration.maximumLength)
        guard let slot = conversation.slots.first else {
            throw .invalidArgument("the conversation is longer than the maximum length \(configuration.maximumLength) even without its question")
        }
        let start = slot.positions.lowerBound, count = conversation.count - start, threads = configuration.threads
        let positions = conversation.lossPositions.map { $0 - start }, targets = conversation.lossTargets
        let (tape, hidden) = conversation.embeddings.withUnsafeBufferPointer {
            transformer.forwardForTraining(embeddings: $0.baseAddress!, count: conversation.count, trainedFrom: start,
                                           memory: configuration.keepActivations ? .keep : .recompute,
                                           precision: configuration.precision, threads: threads)
        }
        var dHidden = [Float](repeating: 0, count: hidden.count)
        let loss = hidden.withUnsafeBufferPointer { h in
            dHidden.withUnsafeMutableBufferPointer { g in
                transformer.crossEntropy(hidden: h.baseAddress!, positions: positions, targets: targets, scale: scale,
                                         hiddenGradient: g.baseAddress!, precision: configuration.precision, threads: threads)
            }
        }
        guard gradient, loss.isFinite else { return (loss, conversation.count) }
        var dX = [Float](repeating: 0, count: count * d)
        dHidden.withUnsafeBufferPointer { g in
            dX.withUnsafeMutableBufferPointer { transformer.backward(tape: tape, hiddenGradient: g.baseAddress!, embeddingGradient: $0.baseAddress!, threads: threads) }
        }
        var accumulated = prompt.parameter.gradient
        for (row, position) in zip(slot.rows, slot.positions) {
            for j in 0..<d { accumulated[row * d + j] += dX[(position - start) * d + j] }
        }
        prompt.parameter.gradient = accumulated
        return (loss, conversation.count)
    }
}
