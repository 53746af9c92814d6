import Agents
import ArgumentParser
import Foundation
import Kernels
import RoleData
import Training

struct TrainPromptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prompt",
        abstract: "Prompt-tune the answering model alone (k trainable input rows after the single-agent prompt): the tuned single-agent baseline.",
        discussion: """
            The same rows and the same step budget as `rmas train outer` make the comparison fair: a system's links are \
            trained parameters too, so its single agent should get its own. The rows are trained on the answering node's \
            "target" field with the teacher-forced CE, the model frozen. --out receives the checkpoint (manifest.json + \
            safetensors) and log.jsonl; `rmas compare --methods single-tuned --soft-prompt DIR` evaluates it.
            """)

    @OptionGroup var systemArguments: SystemArguments
    @Option(help: "Training rows (JSONL: question and the answering node's target field, e.g. answer).")
    var data: String
    @Option(help: "Soft prompt rows k.", in: 1...4096) var rows = 16
    @Option(help: "Optimizer steps.", in: OptionRange.steps) var steps = 1000
    @Option(help: "Examples per step.", in: 1...65_536) var batchSize = 2
    @Option(help: "Peak learning rate.", in: 0...1) var lr = 3e-3
    @Option(help: "Warmup steps (then cosine decay to 0).", in: 0...100_000_000) var warmup = 10
    @Option(help: "Clip the global gradient norm to this.", in: 1e-6...1e6) var clipNorm = 1.0
    @Option(help: "Cut longer teacher-forced conversations from the left.", in: 2...1_048_576) var maxLength = 4096
    @Flag(help: "Keep every activation for the backward pass (faster, more memory) instead of recomputing layers.")
    var keepActivations = false
    @Option(help: "Random seed (initial rows and data order).", in: OptionRange.seed) var seed: UInt64 = 42
    @Option(help: ArgumentHelp("Start from another run's soft prompt (a checkpoint directory) instead of vocabulary rows.",
                               discussion: "Its rows are copied; the optimizer and the schedule start at step 0. Ignored by --resume."))
    var initFrom: String?
    @Option(help: "The frozen model's matrix products: float32 (exact) or bfloat16 (AVX512-BF16; as `train outer --matmul`).")
    var matmul = MatmulFormat.float32
    @OptionGroup var common: TrainingRunArguments

    func run() throws {
        try matmul.check()
        let output = common.output
        let (train, held) = try common.rows(data: data)
        let definition = try systemArguments.definition()
        var c = PromptTuningConfiguration()
        c.rows = rows
        c.steps = steps
        c.batchSize = batchSize
        c.learningRate = lr
        c.warmupSteps = warmup
        c.clipNorm = clipNorm
        c.seed = seed
        c.checkpointEvery = common.checkpointEvery
        c.evaluateEvery = common.evalEvery
        c.maximumLength = maxLength
        c.keepActivations = keepActivations
        c.precision = matmul.precision
        c.threads = common.threads
        BLAS.setThreadCount(common.threads)
        let loaded = try systemArguments.load(definition, latent: false)
        let graph = loaded.graph, node = graph.answer
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let identity = try loaded.modelIdentities()[node]
        let initial = try initFrom.map { try SoftPrompt(checkpoint: URL(fileURLWithPath: $0), width: graph.nodes[node].model.configuration.width) }
        let tuner = try PromptTuner(graph: graph, node: node, train: train, heldOut: held, configuration: c, output: output,
                                    model: identity, resume: common.resume, initial: initial)
        let log = try TrainOuterCommand.openLog(output.appendingPathComponent("log.jsonl"), keepingThrough: tuner.step)
        if tuner.step > 0 { Console.error("resuming at step \(tuner.step) from \(common.out)") }
        Console.error("prompt-tuning \(rows) rows × \(tuner.prompt.width) for \(graph.nodes[node].id) (\(graph.nodes[node].model.configuration.architecture)) "
                      + "on \(train.count) rows, held-out \(held.count)")
        let bar = ProgressLine(total: steps)
        var failure: (any Error)?
        let (interrupt, drain, notice) = common.stopAfterArgument.training()
        defer { interrupt.stop() }
        try tuner.run(drain: drain) { p in
            notice.check(drain)
            var text = String(format: "loss %.4f | lr %.2e | |g| %.3f | %.0f pos/s", p.loss, p.learningRate, p.gradientNorm, p.tokensPerSecond)
            if let h = p.heldOutLoss { text += String(format: " | held-out %.4f", h) }
            bar.update(step: p.step, text: text, important: p.heldOutLoss != nil || p.checkpointed)
            do {
                try log.append(LogEntry(step: p.step, loss: p.loss, lr: p.learningRate, gradNorm: Double(p.gradientNorm), heldOut: p.heldOutLoss,
                                        positionsPerSecond: p.tokensPerSecond))
            } catch {
                failure = error
                return false
            }
            return true
        }
        bar.finish()
        notice.stopped(drain, step: tuner.step, of: steps)
        if let failure { throw failure }
        for (step, loss) in tuner.heldOutHistory { print(String(format: "held-out loss %.4f at step %d", loss, step)) }
        print("checkpoint: \(output.standardizedFileURL.path) (step \(tuner.step))")
        print("evaluate it: rmas compare --system \(systemArguments.url.path) --methods single,single-tuned --soft-prompt \(output.standardizedFileURL.path) --data …")
    }

    struct LogEntry: Codable {
        var step: Int
        var loss: Double
        var lr: Double
        var gradNorm: Double
        var heldOut: Double?
        var positionsPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case step, loss, lr
            case gradNorm = "grad_norm", heldOut = "held_out", positionsPerSecond = "positions_per_second"
        }
    }
}
