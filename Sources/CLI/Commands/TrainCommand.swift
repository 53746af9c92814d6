import Agents
import ArgumentParser
import Foundation
import Kernels
import Links
import ModelFetch
import Models
import RoleData
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train RecursiveMAS links (the LLMs stay frozen).",
        subcommands: [TrainInnerCommand.self, TrainOuterCommand.self, TrainPromptCommand.self, TrainBenchCommand.self])
}

struct TrainInnerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inner",
        abstract: "Train one node's inner link: 1 − cos(inner(H_t), E_{t+1}) over the assistant tokens of its target field.")

    @OptionGroup var modelArguments: ModelArguments
    @Option(name: [.customLong("node"), .customLong("role")],
            help: "The node whose link this is (default system: planner, refiner or solver); its prompt and target field come from the system.")
    var node: String
    @Option(help: "Training rows (JSONL: question and the fields the node's prompt and target name, e.g. plan, refined_plan, answer).")
    var data: String
    @Option(help: "Held-out rows for the evaluation loss (JSONL). Default: the last --held-out-count rows of --data.")
    var heldOut: String?
    @Option(help: "Rows taken from the end of --data as held-out when --held-out is not given.", in: OptionRange.rows)
    var heldOutCount = 32
    @Option(help: "Checkpoint directory (manifest.json + safetensors).")
    var out: String
    @Option(help: "Optimizer steps.", in: OptionRange.steps) var steps = 2000
    @Option(help: "Examples per step.", in: 1...65_536) var batchSize = 4
    @Option(help: "Peak learning rate.", in: 0...1) var lr = 5e-4
    @Option(help: "Warmup steps (then cosine decay to 0).", in: 0...100_000_000) var warmup = 10
    @Option(help: "Weight of the MSE term (the cosine term has weight 1).", in: 0...1000) var mseWeight: Float = 0
    @Option(help: "The fresh link's output gain: embedding (γ of its output LayerNorm = the model's input-embedding RMS, so its outputs start at the embeddings' scale) or unit (γ = 1, the reference's, outputs ~10× the embeddings).")
    var outputScale = InnerOutputScale.embeddingRMS
    @Option(help: "Inner link type (ln_res_adapter, res_adapter, adapter, linear_res_adapter, linear_adapter).")
    var link = InnerLinkKind.default
    @Option(help: "Random seed (link init and data order).", in: OptionRange.seed) var seed: UInt64 = 42
    @Option(help: "Truncate examples to this many tokens.", in: 2...1_048_576) var maxLength = 2048
    @Option(help: "Save a checkpoint every N steps.", in: OptionRange.steps) var checkpointEvery = 100
    @Option(help: "Evaluate the held-out loss every N steps.", in: OptionRange.steps) var evalEvery = 100
    @Option(help: "Worker threads.", in: OptionRange.threads) var threads = 2
    @Flag(help: "Continue from the checkpoint in --out.") var resume = false
    @OptionGroup var stopAfterArgument: StopAfterArgument
    @Option(help: ArgumentHelp("A system file whose node prompts and target fields shape the training conversations, so the link learns on the prompts the system will run (default: the built-in sequential system).", valueName: "system-file"))
    var promptsFrom: String?

    func run() throws {
        let path = try modelArguments.resolvedPath()
        let model = try LanguageModel.load(path: path)
        BLAS.setThreadCount(threads)
        let graph = try promptsFrom.map { try GraphDefinition.load(URL(fileURLWithPath: $0)) } ?? .sequential()
        guard let index = graph.nodes.firstIndex(where: { $0.id == node }) else {
            throw ValidationError("unknown node '\(node)' (\(graph.nodes.map(\.id).joined(separator: ", ")))")
        }
        let (rows, held) = try TrainingRows.read(data: data, heldOut: heldOut, heldOutCount: heldOutCount)
        var configuration = InnerTrainingConfiguration(node: node)
        configuration.linkKind = link
        configuration.steps = steps
        configuration.batchSize = batchSize
        configuration.learningRate = lr
        configuration.warmupSteps = warmup
        configuration.mseWeight = mseWeight
        configuration.outputScale = outputScale
        configuration.seed = seed
        configuration.maximumLength = maxLength
        configuration.checkpointEvery = checkpointEvery
        configuration.evaluateEvery = evalEvery
        configuration.threads = threads
        let identity = CheckpointManifest.Model(role: node, name: modelArguments.model, sha256: try ModelIdentity.sha256(of: path))
        let pairs = rows.compactMap { graph.trainingPair(index, row: $0) }, heldPairs = held.compactMap { graph.trainingPair(index, row: $0) }
        if pairs.count < rows.count { Console.error("warning: \(rows.count - pairs.count) rows lack a field node '\(node)' needs; skipped") }
        let trainer = try InnerTrainer(model: model, train: pairs, heldOut: heldPairs, configuration: configuration,
                                       output: URL(fileURLWithPath: out), modelIdentity: identity, resume: resume)
        if trainer.step > 0 { Console.error("resuming at step \(trainer.step) from \(out)") }
        Console.error("training \(node) inner link (\(configuration.linkKind.rawValue), \(trainer.link.parameters.scalarCount) parameters) on \(rows.count) rows, held-out \(held.count)")
        let bar = ProgressLine(total: steps)
        let (interrupt, drain, notice) = stopAfterArgument.training()
        defer { interrupt.stop() }
        try trainer.run(drain: drain) { p in
            notice.check(drain)
            bar.update(step: p.step, text: String(format: "loss %.4f%@ | lr %.2e | |g| %.3f | %.0f tok/s | ETA %@%@", p.loss,
                                                   p.heldOutLoss.map { loss in
                                                       String(format: " | held-out %.4f", loss)
                                                           + (mseWeight > 0 ? String(format: " (cos %.4f)", p.heldOutCosine ?? .nan) : "")
                                                   } ?? "",
                                                   p.learningRate, p.gradientNorm, p.tokensPerSecond,
                                                   ProgressLine.duration(p.etaSeconds), p.checkpointed ? " | saved" : ""),
                       important: p.heldOutLoss != nil || p.checkpointed)
            return true
        }
        bar.finish()
        notice.stopped(drain, step: trainer.step, of: steps)
        if !held.isEmpty {  // also when a resumed run had nothing left to do
            print(String(format: "held-out loss %.4f, 1 − cos %.4f at step %d", trainer.evaluate(), trainer.evaluate(cosineOnly: true),
                         trainer.step))
        }
        print("checkpoint: \(out)")
    }
}

extension InnerLinkKind: ExpressibleByArgument {
    /// A reference name or alias (`ln_res_adapter`, `2layer_ln_res`, …).
    public init?(argument: String) { try? self.init(name: argument) }
    public var defaultValueDescription: String { rawValue }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
extension InnerOutputScale: ExpressibleByArgument {}
