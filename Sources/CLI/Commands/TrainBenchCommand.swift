import Agents
import ArgumentParser
import Foundation
import Kernels
import RoleData

/// The work-saving settings of the outer objective, as `rmas train bench` compares them.
enum ObjectiveVariant: String, CaseIterable, ExpressibleByArgument {
    /// Every position of every stage, layers recomputed in the backward (the trainer before the skipping).
    case full
    /// Positions before the first slot and after the last row passed on skipped; recomputation.
    case skip
    /// Every position, every activation kept (no recomputation).
    case keep
    /// Both savings (the trainer's default).
    case skipKeep = "skip-keep"
    /// skip-keep with the frozen models' matrix products in bfloat16 (`train outer --matmul
    /// bfloat16`; AVX512-BF16 only): not the same loss and gradient, close to them (the gradient
    /// comparison below says how close).
    case skipKeepBFloat16 = "skip-keep-bf16"
    /// Both savings, and the backward through the final round only (truncated back-propagation
    /// through rounds: not the same gradient; the per-round norms say how much is dropped).
    case lastRound = "last-round"
    /// last-round with the rollouts' feedback chains differentiated (`--latents rollout` only): the
    /// exact gradient's cost (``RolloutBackward/exact``; same loss) and, against last-round, how
    /// far the truncated gradient is from it.
    case exactRollout = "exact-rollout"
    /// The loss with every slot's latents replaced by zeros, forward only: not a speed setting but
    /// the latent-zero control of the objective, to read beside another variant's loss.
    case zeroLatents = "zero-latents"
    /// The loss with every slot filled by what another row's loop delivered there (the next row of
    /// the set, cyclically), forward only: the latent-shuffled control of the objective. Below it,
    /// the links' rows carry something about their own question, not only a prompt every question shares.
    case shuffledLatents = "shuffled-latents"
    /// The answering node alone with the single-agent prompt, forward only: the loss the links
    /// must get below for the system to beat its own answering model.
    case single
    /// The answering node's answer CE with the latents inference delivers (upstream nodes roll
    /// the system's latent steps through their inner links; no teacher-forced upstream text),
    /// forward only: whether the objective's gain carries over to the latents the system sends.
    case inference

    func apply(to options: inout OuterObjectiveOptions) {
        options.skipUnreachable = self != .full && self != .keep
        options.keepActivations = self != .full && self != .skip
        options.precision = self == .skipKeepBFloat16 ? .bfloat16 : .float32
        options.backpropagatedRounds = self == .lastRound || self == .exactRollout ? 1 : nil
        options.zeroLatents = self == .zeroLatents
        options.rolloutBackward = self == .exactRollout ? .exact : .truncated
    }
}

extension ObjectiveVariant {
    /// Whether the variant back-propagates (the controls and references are forward only).
    var computesGradient: Bool { ![.zeroLatents, .shuffledLatents, .single, .inference].contains(self) }
}

struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure outer-training throughput: one optimizer step's objective (forward + backward through every frozen model) under each setting, alternating.",
        discussion: """
            Each pair runs the same --examples rows once per variant, in turn, and prints examples per second; the \
            ratios to the first variant and their medians over --pairs follow (a shared machine's speed drifts, so \
            only ratios within a pair count). The losses of the variants must agree (they compute the same objective; skip-keep-bf16 computes it with bfloat16 products, close but not equal; last-round also \
            computes it, but back-propagates through the final round only; zero-latents is the loss with zeros in every \
            slot, forward only, the control that says what the links' rows are worth; shuffled-latents fills every slot \
            with what the next row's loop delivered there, the control that says whether the rows are about their own question; single is the answering node alone with \
            the single-agent prompt, the loss the links must get below; inference is the answer's loss with the latents \
            inference sends, rolled out by the upstream nodes instead of read off the dataset's texts). With --latents rollout \
            every objective variant passes those rollouts instead (as `train outer --latents rollout` trains), so its loss \
            equals inference's.
            """)

    @OptionGroup var systemArguments: SystemArguments
    @Option(help: "Training rows (JSONL with every node's target field).")
    var data: String
    @Option(help: "Rows per variant and pair (the first rows of --data).", in: 1...10_000)
    var examples = 2
    @Option(help: "Rounds R of the loop (default: the system's).", in: OptionRange.rounds) var rounds: Int?
    @Option(help: "Variants, comma-separated, the first the reference: full, skip, keep, skip-keep, last-round, exact-rollout (with --latents rollout), zero-latents, shuffled-latents, single, inference.")
    var variants = CommaSeparated<ObjectiveVariant>([.full, .skipKeep])
    @Option(help: "What the objective's upstream nodes pass on: teacher-forced (the reference) or rollout (inference's latents, the system's latent_steps long), as `train outer --latents`.")
    var latents = TrainOuterCommand.LatentSourceArgument.teacherForced
    @Option(help: "Alternating pairs.", in: 1...1000) var pairs = 3
    @Option(help: "Worker threads.", in: OptionRange.threads) var threads = 2

    func run() throws {
        guard !variants.values.isEmpty else { throw ValidationError("--variants names none") }
        let definition = try systemArguments.definition()
        let rows = Array(try DataRow.read(from: URL(fileURLWithPath: data)).prefix(examples))
        guard rows.count == examples else { throw ValidationError("--data \(data) holds \(rows.count) rows; --examples asks for \(examples)") }
        if variants.values.contains(.shuffledLatents), examples < 2 {
            throw ValidationError("--variants shuffled-latents takes each row's latents from another row: --examples must be at least 2")
        }
        BLAS.setThreadCount(threads)
        let graph = try systemArguments.load(definition).graph
        var options = OuterObjectiveOptions()
        options.rounds = rounds ?? definition.schedule.rounds
        options.maximumLatentRows = definition.defaults.maxLatentTokens
        options.threads = threads
        if latents == .rollout { options.latentSource = .rollout(steps: definition.defaults.latentSteps) }
        if variants.values.contains(.exactRollout), latents != .rollout {
            throw ValidationError("--variants exact-rollout differentiates rollouts: add --latents rollout")
        }
        if variants.values.contains(.skipKeepBFloat16) { try MatmulFormat.bfloat16.check() }
        let clock = ContinuousClock()
        // Warm-up: page the weights in and pack them once in each format the variants use.
        for precision in Set(variants.values.map { v in var o = options; v.apply(to: &o); return o.precision }) {
            var o = options
            o.precision = precision
            _ = try graph.outerObjective(rows[0], options: o)
        }

        Console.error("\(examples) examples × \(variants.values.count) variants × \(pairs) pairs, \(options.rounds) rounds")
        var ratios = [[Double]](repeating: [], count: variants.values.count)
        // Pair 1's gradient of every edge's link under each variant that computes one.
        var gradients: [(variant: ObjectiveVariant, edges: [[Float]])] = []
        for pair in 1...pairs {
            var rates: [Double] = [], losses: [Double] = []
            for variant in variants.values {
                var o = options
                variant.apply(to: &o)
                let parameters = graph.outerParameters
                parameters.zeroGradients()
                var loss = 0.0
                let start = clock.now
                for (i, row) in rows.enumerated() {
                    switch variant {
                    case .single: loss += try graph.singleAgentLoss(row, options: o)
                    case .inference: loss += try graph.inferenceLatentLoss(row, latentSteps: definition.defaults.latentSteps, options: o)
                    default:
                        let donor = variant == .shuffledLatents ? rows[(i + 1) % rows.count] : nil
                        loss += try graph.outerObjective(row, options: o, scale: 1 / Float(rows.count), latentDonor: donor).loss
                    }
                }
                rates.append(Double(rows.count) / (clock.now - start).seconds)
                losses.append(loss / Double(rows.count))
                if pair == 1, variant.computesGradient {
                    gradients.append((variant, graph.edges.map { $0.link.parameters.flatMap(\.gradient) }))
                }
            }
            for k in rates.indices { ratios[k].append(rates[k] / rates[0]) }
            let cells = zip(variants.values, zip(rates, losses)).map { v, r in String(format: "%@ %.4f ex/s (loss %.6f)", v.rawValue, r.0, r.1) }
            print("pair \(pair): " + cells.joined(separator: ", ")
                  + (rates.count > 1 ? " | ratios " + rates.map { String(format: "%.2f×", $0 / rates[0]) }.joined(separator: " ") : ""))
        }
        for (variant, values) in zip(variants.values, ratios).dropFirst() {
            print(String(format: "%@ vs %@: median %.2f× (pairs: %@)", variant.rawValue, variants.values[0].rawValue,
                         BenchCommand.median(values), values.map { String(format: "%.2f", $0) }.joined(separator: ", ")))
        }
        // How far each variant's gradient is from the first gradient variant's, edge by edge.
        if let reference = gradients.first {
            for other in gradients.dropFirst() {
                let cells = graph.edges.indices.map { k in
                    let (cosine, ratio) = Self.agreement(other.edges[k], reference.edges[k])
                    return String(format: "%@ cos %.4f, norm %.3g×", graph.edgeName(k), cosine, ratio)
                }
                print("gradient \(other.variant.rawValue) vs \(reference.variant.rawValue): " + cells.joined(separator: "; "))
            }
        }
    }

    /// Cosine of `a` and `b` and ‖a‖ / ‖b‖ (0 where a norm is zero).
    static func agreement(_ a: [Float], _ b: [Float]) -> (cosine: Double, ratio: Double) {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) {
            ab += Double(x) * Double(y)
            aa += Double(x) * Double(x)
            bb += Double(y) * Double(y)
        }
        guard aa > 0, bb > 0 else { return (0, 0) }
        return (ab / (aa * bb).squareRoot(), (aa / bb).squareRoot())
    }
}
