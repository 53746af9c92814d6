import Agents
import ArgumentParser
import Foundation
import Kernels
import RoleData
import Training

extension RolloutBackward: ExpressibleByArgument {}

struct TrainOuterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outer",
        abstract: "Train a system's outer links together: teacher-forced answer CE through the frozen LLMs and inner links (spec §2.4/§2.5).",
        discussion: """
            Works for any agent graph: every node is teacher-forced on its "target" field of the data rows (with \
            --latents rollout only the answering node is; the others pass on their latent rollouts, as in inference). The system \
            file's links are the starting point (a link without a checkpoint is freshly initialised); its inner links stay \
            frozen. --out receives the checkpoint (manifest.json + safetensors, each link's tensors prefixed \
            <from>_to_<to>.), log.jsonl (one object per step) and, at the end, system.json: the system file with every \
            outer link pointing at the checkpoint.
            """)

    @OptionGroup var systemArguments: SystemArguments
    @Option(help: "Training rows (JSONL: question and each node's target field, e.g. plan, refined_plan, answer).")
    var data: String
    @Option(help: "Optimizer steps.", in: OptionRange.steps) var steps = 1000
    @Option(help: "Examples per step.", in: 1...65_536) var batchSize = 2
    @Option(help: "Peak learning rate.", in: 0...1) var lr = 5e-4
    @Option(help: "Warmup steps (then cosine decay to 0).", in: 0...100_000_000) var warmup = 10
    @Option(help: "AdamW weight decay.", in: 0...1) var weightDecay = 0.0
    @Option(help: "Clip the global gradient norm to this.", in: 1e-6...1e6) var clipNorm = 1.0
    @Option(help: "Rounds R of the loop (default: the system's).", in: OptionRange.rounds) var rounds: Int?
    @Option(help: "Latent rows passed along each link, the first assistant positions (default: the system's max_latent_tokens).", in: 1...1_048_576)
    var maxLatentRows: Int?
    @Flag(help: "Supervise every round's answering node, not only the last one's.") var allRounds = false
    @Option(help: "With --all-rounds: weight of the mean of the earlier rounds' losses.", in: 0...1000) var earlierRoundWeight = 0.1
    @Option(help: "Cut longer teacher-forced conversations from the left.", in: 2...1_048_576) var maxLength = 4096
    @Flag(inversion: .prefixedNo, help: "Keep every activation for the backward pass (measured 1.27× faster at one round; ~0.5 GB per Qwen2.5-0.5B stage of 350 positions) instead of recomputing layers.")
    var keepActivations = true
    @Flag(help: "Run every position of every stage (slower; the same loss and gradients up to float rounding) instead of skipping positions before a stage's first slot and after the last row it passes on.")
    var noSkip = false
    @Option(help: "Back-propagate through the last N rounds only (truncated back-propagation through rounds; default: every round). Earlier rounds run plain forwards; a feedback link still trains from the next round's input gradient; the log's per-round gradient norms show what crossing a round boundary carries.",
            in: OptionRange.rounds)
    var backpropRounds: Int?
    @Option(help: "What upstream nodes pass on: teacher-forced (the reference: hidden states of each node's target text) or rollout (what inference sends: each node's latent rollout from its own prompt, --latent-steps long; only the answering node needs a target; the backward holds the rollout's fed-back inputs constant unless --rollout-backward exact).")
    var latents = LatentSourceArgument.teacherForced
    @Option(help: "With --latents rollout: truncated (one backward per stage; the fed-back inputs held constant, exact only for edges into the answering node) or exact (the feedback chain through each upstream node's inner link differentiated: up to m backward passes per rolled-out stage).")
    var rolloutBackward = RolloutBackward.truncated
    @Option(help: "With --latents rollout: latent steps m of each rollout (default: the system's latent_steps).", in: 1...4096)
    var latentSteps: Int?
    @Option(help: "Random seed (data order).", in: OptionRange.seed) var seed: UInt64 = 42
    @Option(help: "The frozen models' matrix products: float32 (exact) or bfloat16 (operands rounded to bfloat16, fp32 accumulation; needs AVX512-BF16; measured faster on AMD Zen 4, slower on the Xeon, see BENCHMARKS). Link weights and gradients stay fp32; a run resumes only with the format it started with.")
    var matmul = MatmulFormat.float32
    @Option(help: "Add a hinge that only the question's own messages can lower: loss = CE_own + w · max(0, MARGIN + CE_own − CE_donor), CE_donor being the same answer's CE when another training row's conversation sends the messages (a seeded pick per row and step). In nats per target token; off by default. The log shows both CEs, and the held-out evaluation adds the held-out rows' CE under the next held-out row's messages.", in: 0...100)
    var latentMargin: Double?
    @Option(help: "With --latent-margin: the hinge's weight w.", in: 1e-6...1000) var latentMarginWeight = 1.0
    @OptionGroup var common: TrainingRunArguments
    @Option(help: "Before training, bridge-initialise the outer links from the first N training rows (ridge map, spec §2.6); 0 = off.", in: OptionRange.rows)
    var bridgeInit = 0

    var trainingConfiguration: OuterTrainingConfiguration {
        var c = OuterTrainingConfiguration()
        c.steps = steps
        c.batchSize = batchSize
        c.learningRate = lr
        c.warmupSteps = warmup
        c.weightDecay = weightDecay
        c.clipNorm = clipNorm
        c.seed = seed
        c.checkpointEvery = common.checkpointEvery
        c.evaluateEvery = common.evalEvery
        c.objective.finalRoundOnly = !allRounds
        c.objective.earlierRoundWeight = earlierRoundWeight
        c.objective.maximumLength = maxLength
        c.objective.keepActivations = keepActivations
        c.objective.skipUnreachable = !noSkip
        c.objective.backpropagatedRounds = backpropRounds
        c.objective.precision = matmul.precision
        c.objective.threads = common.threads
        c.objective.latentMargin = latentMargin.map { LatentMargin(margin: $0, weight: latentMarginWeight) }
        return c
    }

    func run() throws {
        try matmul.check()
        let output = common.output
        let store = CheckpointStore(directory: output)
        let (rows, held) = try common.rows(data: data)
        let definition = try systemArguments.definition()
        var configuration = trainingConfiguration
        configuration.objective.rounds = rounds ?? definition.schedule.rounds
        configuration.objective.maximumLatentRows = maxLatentRows ?? definition.defaults.maxLatentTokens
        if latentMargin == nil, latentMarginWeight != 1 { throw ValidationError("--latent-margin-weight applies with --latent-margin only") }
        if latentMargin != nil, allRounds { throw ValidationError("--latent-margin compares final-round answers; drop --all-rounds") }
        if latentSteps != nil, latents != .rollout { throw ValidationError("--latent-steps applies to --latents rollout only") }
        if rolloutBackward == .exact, latents != .rollout { throw ValidationError("--rollout-backward exact applies to --latents rollout only") }
        configuration.objective.rolloutBackward = rolloutBackward
        if latents == .rollout {
            if allRounds { throw ValidationError("--latents rollout supervises the final round only (an earlier round's answering node rolls out what it passes on); drop --all-rounds") }
            configuration.objective.latentSource = .rollout(steps: latentSteps ?? definition.defaults.latentSteps)
        }
        if let window = backpropRounds, window > configuration.objective.rounds {
            throw ValidationError("--backprop-rounds \(window) exceeds the \(configuration.objective.rounds) rounds trained")
        }
        if let window = backpropRounds, window < configuration.objective.rounds, allRounds {
            throw ValidationError("--backprop-rounds \(window) with --all-rounds would drop the earlier rounds' supervised gradients")
        }
        BLAS.setThreadCount(common.threads)
        let loaded = try systemArguments.load(definition)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        if bridgeInit > 0, !store.exists {
            let fits = try loaded.graph.bridgeInitialize(rows: rows, limit: bridgeInit, threads: common.threads)
            for name in loaded.graph.edges.indices.map(loaded.graph.edgeName) {
                Console.error(String(format: "bridge %@: %d pairs, relative residual %.3f", name, fits[name]!.pairs, fits[name]!.relativeResidual))
            }
        }
        let trainer = try OuterTrainer(graph: loaded.graph, train: rows, heldOut: held, configuration: configuration,
                                       output: output, models: try loaded.modelIdentities(), resume: common.resume)
        let log = try Self.openLog(output.appendingPathComponent("log.jsonl"), keepingThrough: trainer.step)
        if trainer.step > 0 { Console.error("resuming at step \(trainer.step) from \(common.out)") }
        let count = trainer.graph.outerParameters.scalarCount
        Console.error("training outer links (\(count) parameters, \(configuration.objective.rounds) rounds, "
                      + "\(configuration.objective.finalRoundOnly ? "final round supervised" : "all rounds supervised")) "
                      + "on \(rows.count) rows, held-out \(held.count)")
        let bar = ProgressLine(total: steps)
        var failure: (any Error)?
        let (interrupt, drain, notice) = common.stopAfterArgument.training()
        defer { interrupt.stop() }
        try trainer.run(drain: drain) { p in
            notice.check(drain)
            bar.update(step: p.step, text: Self.summary(p, edges: loaded.graph.edges.indices.map(loaded.graph.edgeName)), important: p.heldOutLoss != nil || p.checkpointed)
            do {
                try log.append(LogEntry(p))
            } catch {
                failure = error
                return false
            }
            return true
        }
        bar.finish()
        notice.stopped(drain, step: trainer.step, of: steps)
        if let failure { throw failure }

        for (step, loss) in trainer.heldOutHistory { print(String(format: "held-out loss %.4f at step %d", loss, step)) }
        let systemFile = output.appendingPathComponent("system.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(loaded.withOuterCheckpoint(output)), to: systemFile)
        let directory = output.standardizedFileURL.path
        print("checkpoint: \(directory) (step \(trainer.step))")
        print("""
            A system file uses it by naming this directory as each edge's "checkpoint" (the weights hold every link, \
            prefixed <from>_to_<to>.):
              "edges": [{"from": "…", "to": "…", "slot": "…", "checkpoint": "\(directory)"}, …]
            \(systemFile.path) is \(systemArguments.url.path) with its links pointing here:
              rmas run --system \(systemFile.path) "QUESTION"
            """)
    }

    /// `--latents`: what upstream nodes pass on in the objective.
    enum LatentSourceArgument: String, ExpressibleByArgument, CaseIterable {
        case teacherForced = "teacher-forced"
        case rollout
    }

    /// The step log, continued on resume: lines past the checkpoint's step (logged before a kill,
    /// then lost with the weights) are dropped; a fresh run starts an empty log.
    static func openLog(_ url: URL, keepingThrough step: Int) throws -> JSONLines.Appender {
        let kept = step > 0 ? try JSONLines.read(LogEntry.self, from: url).filter { $0.step <= step } : []
        try JSONLines.write(kept, to: url)
        return try JSONLines.Appender(url: url)
    }

    /// `loss … | held-out … | lr … | |g| … | pla→ref a/b ref→sol … | … pos/s | ETA …` (edges by name, in order).
    static func summary(_ p: OuterTrainingProgress, edges names: [String]) -> String {
        let edges = names.map { name in
            let parts = name.components(separatedBy: "_to_")
            return "\(parts.first!.prefix(3))→\(parts.last!.prefix(3)) " + (p.roundGradientNorms[name] ?? []).map(Self.compact).joined(separator: "/")
        }
        let margin = p.margin.map { m in
            String(format: " | own %.4f donor %.4f", m.own, m.donor) + (m.heldOutDonor.map { String(format: " held-out donor %.4f", $0) } ?? "")
        } ?? ""
        return String(format: "loss %.4f%@%@ | lr %.2e | |g| %.3f | %@ | %.0f pos/s | ETA %@%@", p.loss,
                      p.heldOutLoss.map { String(format: " | held-out %.4f", $0) } ?? "", margin, p.learningRate, p.gradientNorm,
                      edges.joined(separator: " "), p.positionsPerSecond, ProgressLine.duration(p.etaSeconds),
                      p.checkpointed ? " | saved" : "")
    }

    /// Two significant digits with a short exponent: 0.00123 → "1.2e-3".
    static func compact(_ x: Double) -> String {
        guard x != 0 else { return "0" }
        let s = String(format: "%.1e", x)
        guard let e = s.firstIndex(of: "e") else { return s }
        let exponent = Int(s[s.index(after: e)...]) ?? 0
        return s[..<e] + "e\(exponent)"
    }

    /// One line of log.jsonl.
    struct LogEntry: Codable {
        var step: Int
        var loss: Double
        var lr: Double
        var gradNorm: Double
        var heldOut: Double?
        /// Edge name → per-round norms (index round − 1).
        var roundGradNorms: [String: [Double]]
        var positionsPerSecond: Double
        /// Margin runs: the batch's CE under its own and under the donors' messages; the held-out
        /// rows' CE under another held-out row's messages where evaluated.
        var ownLoss: Double?
        var donorLoss: Double?
        var heldOutDonor: Double?

        enum CodingKeys: String, CodingKey {
            case step, loss, lr
            case gradNorm = "grad_norm", heldOut = "held_out", roundGradNorms = "round_grad_norms"
            case positionsPerSecond = "positions_per_second"
            case ownLoss = "own_loss", donorLoss = "donor_loss", heldOutDonor = "held_out_donor"
        }

        init(_ p: OuterTrainingProgress) {
            step = p.step
            loss = p.loss
            lr = p.learningRate
            gradNorm = Double(p.gradientNorm)
            heldOut = p.heldOutLoss
            roundGradNorms = p.roundGradientNorms
            positionsPerSecond = p.positionsPerSecond
            ownLoss = p.margin?.own
            donorLoss = p.margin?.donor
            heldOutDonor = p.margin?.heldOutDonor
        }
    }
}
