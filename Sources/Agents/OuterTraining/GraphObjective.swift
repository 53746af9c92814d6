// Provenance: the outer-loop objective of spec §2.4 (sequential) and §2.5 (mixture, distillation,
// deliberation), for any agent graph: every node teacher-forced on its row field; each transfer
// takes the source's first `maximumLatentRows` assistant hidden states → the source's frozen inner
// link → the edge's outer link → the target's slot (forward edges in the same round, feedback
// edges into the next); CE on the answering node's final round (optionally + w · mean of earlier
// rounds'); gradients flow back through every frozen transformer and inner link into all outer links.
// With `LatentSource.rollout` (this project's, not the reference's) the upstream nodes instead pass
// what inference sends: their m-step latent rollout (spec §3.1).
import Kernels
import Links
import Models
import RoleData
import Training

/// What an upstream node passes along its edges in the outer objective.
public enum LatentSource: Sendable, Codable, Equatable {
    /// The reference (spec §2.4): hidden states of the node's teacher-forced target text, its
    /// first `maximumLatentRows` assistant positions. Inference sends rollouts instead (the
    /// mismatch spec §2.4 notes).
    case teacherForced
    /// What inference sends (spec §3.1, §3.4): the node's own m-step latent rollout from its
    /// prompt, no target text. The forward equals inference's. How the backward treats the
    /// rollout's fed-back inputs e₁ … e_{m−1} is ``OuterObjectiveOptions/rolloutBackward``.
    /// Only the answering node needs a target, and only its final round may be supervised.
    case rollout(steps: Int)

    /// "teacher-forced" or "rollout-m", as recorded in a checkpoint.
    public var name: String {
        switch self {
        case .teacherForced: "teacher-forced"
        case .rollout(let m): "rollout-\(m)"
        }
    }
}

/// What the outer objective needs besides the graph and the row.
public struct OuterObjectiveOptions: Sendable, Codable, Equatable {
    /// Rounds R of the loop.
    public var rounds = 3
    /// Latent rows passed along an edge: the first rows of the assistant positions (reference: 80).
    public var maximumLatentRows = 80
    /// Supervise only the final round's answer (reference default); else add
    /// `earlierRoundWeight` · mean of the earlier rounds' CE.
    public var finalRoundOnly = true
    public var earlierRoundWeight = 0.1
    /// Teacher-forced conversations longer than this are cut from the left.
    public var maximumLength = 4096
    /// Keep every activation (one forward per stage) instead of recomputing layers in the backward.
    public var keepActivations = false
    /// Skip work no gradient and no passed-on row needs (same loss and gradients up to float
    /// rounding): positions before a stage's first latent slot get a plain forward and no
    /// backward, and a stage whose loss is not taken stops after the last row it passes on.
    public var skipUnreachable = true
    /// Back-propagate through the last N rounds only (truncated back-propagation through rounds);
    /// nil = every round. Earlier rounds run plain forwards, so only their uses of a link inside
    /// the window train it: a feedback link still learns from the next round's input gradient,
    /// while gradient paths that cross a round boundary backwards are dropped. Measured on the
    /// default system at R = 2 those paths carried at most 2.5e-5 of the gradient's norm
    /// (BENCHMARKS "Truncated back-propagation through rounds").
    public var backpropagatedRounds: Int?
    /// Evaluation only: every slot gets zero rows instead of its link's output (the latent-zero
    /// control of the objective: how well the nodes do on their targets without hearing each
    /// other). No gradient is computed.
    public var zeroLatents = false
    /// Teacher-forced text (the reference) or inference's rollouts.
    public var latentSource = LatentSource.teacherForced
    /// With rollouts: whether the backward differentiates the feedback chain h_{k−1} → e_k.
    public var rolloutBackward = RolloutBackward.truncated
    /// The frozen models' multi-position matrix products in the stages' forwards, the answer's
    /// loss and the input-gradient backward: ``ActivationPrecision/float32`` (exact) or
    /// ``ActivationPrecision/bfloat16`` (fp32 accumulation; where the CPU has AVX512-BF16).
    /// Link weights and gradients stay fp32; rollouts' latent steps run fp32 either way.
    public var precision = ActivationPrecision.float32
    public var threads = Parallel.defaultThreadCount
    /// Training only: add the hinge that asks the row's own latents to beat another row's
    /// (``LatentMargin``); nil = the plain objective.
    public var latentMargin: LatentMargin?

    public init() {}

    /// Refuses values the objective cannot run with, naming the setting.
    public func validate() throws(AgentError) {
        try AgentError.check("rounds", rounds, atLeast: 1)
        try AgentError.check("latent rows per edge", maximumLatentRows, atLeast: 1)
        try AgentError.check("maximum length", maximumLength, atLeast: 2)
        try AgentError.check("threads", threads, atLeast: 1)
        try AgentError.check("earlier-round weight", earlierRoundWeight, in: 0...1e3)
        if case .rollout(let m) = latentSource {
            try AgentError.check("rollout latent steps", m, atLeast: 1)
            guard finalRoundOnly else {
                throw .invalidArgument("rollout latents supervise the final round only: an earlier round's answering node rolls out the latents it passes on instead of reading its target")
            }
        }
        if rolloutBackward == .exact, latentSource == .teacherForced {
            throw .invalidArgument("the exact rollout backward differentiates a rollout's fed-back inputs; teacher-forced latents have none (use rollout latents)")
        }
        if let latentMargin {
            try latentMargin.validate()
            guard finalRoundOnly else {
                throw .invalidArgument("the latent margin compares final-round answers: supervise the final round only")
            }
        }
        if let window = backpropagatedRounds {
            guard (1...rounds).contains(window) else {
                throw .invalidArgument("back-propagated rounds must be in 1…\(rounds), the rounds trained (got \(window))")
            }
            if !finalRoundOnly, window < rounds {
                throw .invalidArgument("back-propagating \(window) of \(rounds) rounds drops the gradient of the earlier rounds' supervised answers: supervise the final round only, or back-propagate every round")
            }
        }
    }

    /// The first round whose stages keep a tape for the backward.
    var firstBackpropagatedRound: Int { rounds - min(backpropagatedRounds ?? rounds, rounds) + 1 }
}

/// The objective of one row and where its gradient went.
public struct OuterSampleResult: Sendable {
    /// The supervised loss (as optimised, before any batch scaling).
    public var loss: Double
    /// Each round's answer CE (nil where it was not computed: earlier rounds with `finalRoundOnly`).
    public var roundLosses: [Double?]
    /// ‖∂loss/∂θ‖ of each edge's link from each round's use of it, by edge name
    /// ("planner_to_refiner"; index round − 1; 0 where unused), after the caller's scale.
    public var gradientNorms: [String: [Double]]
    /// Positions run through the transformers (forward).
    public var positions: Int
}

extension AgentGraph {
    /// The name of edge `k` in logs and progress ("<from>_to_<to>").
    public func edgeName(_ k: Int) -> String { "\(nodes[edges[k].from].id)_to_\(nodes[edges[k].to].id)" }

    /// The fields a row needs for outer training: the question and every acting node's target.
    public var trainingFields: [String] { nodes.compactMap(\.target) }

    /// The target fields the objective reads with `source`: every node's when teacher-forced,
    /// only the answering node's with rollouts.
    public func trainingFields(_ source: LatentSource) -> [String] {
        source == .teacherForced ? trainingFields : nodes[answer].target.map { [$0] } ?? []
    }

    /// Runs the teacher-forced loop on `row` and, with `gradient`, adds `scale` · ∂loss/∂θ into
    /// every outer link's parameter gradients (frozen inner links' gradients are touched too and
    /// must be ignored).
    ///
    /// With `latentDonor` (evaluation only, no gradient) every slot receives what the same edge
    /// delivered in the same round of `latentDonor`'s loop instead: the latent-shuffled control of
    /// the objective (another question's rows, in distribution, where ``OuterObjectiveOptions/zeroLatents``
    /// gives none). A loss that rises under it says the rows carry something about *this* question.
    public func outerObjective(
        _ row: DataRow, options: OuterObjectiveOptions, scale: Float = 1, gradient: Bool = true, latentDonor: DataRow? = nil
    ) throws(AgentError) -> OuterSampleResult {
        var donated: [DeliveryKey: [Float]]?
        if let latentDonor {
            guard !options.zeroLatents else { throw .invalidArgument("a latent donor and zero latents are two different controls; ask for one") }
            donated = try loop(latentDonor, options: options, scale: scale, gradient: false, substitutes: nil).deliveries
        }
        return try loop(row, options: options, scale: scale, gradient: gradient && donated == nil, substitutes: donated).result
    }

    /// Where a transfer lands: the edge and the round of the stage that receives it.
    struct DeliveryKey: Hashable {
        let edge: Int
        let round: Int
    }

    /// The loop of ``outerObjective(_:options:scale:gradient:latentDonor:)``; `substitutes` replace
    /// the latents of the transfers they name; `answerRow` (default `row`) gives the final
    /// round's answering stage its question and target, so every message it hears comes from
    /// `row`'s conversation. With `deferBackward` the tapes and loss gradients are left in the
    /// returned stages for the caller's ``backward(_:norms:options:)``. Returns the result, every
    /// transfer's latents and the stages.
    func loop(
        _ row: DataRow, options: OuterObjectiveOptions, scale: Float, gradient: Bool, substitutes: [DeliveryKey: [Float]]?,
        answerRow: DataRow? = nil, deferBackward: Bool = false
    ) throws(AgentError) -> (result: OuterSampleResult, deliveries: [DeliveryKey: [Float]], stages: [ObjectiveStage]) {
        let rounds = options.rounds, gradient = gradient && !options.zeroLatents
        guard rounds >= 1, options.maximumLatentRows >= 1 else { throw .invalidArgument("rounds and latent rows must be at least 1") }
        var deliveries: [DeliveryKey: [Float]] = [:]
        var stages: [ObjectiveStage] = []
        var previous: [Int: Int] = [:]  // node → its stage index in the previous round
        var roundLosses = [Double?](repeating: nil, count: rounds)
        for round in 1...rounds {
            var current: [Int: Int] = [:]
            let acting = self.acting(round: round, of: rounds)
            for i in acting {
                let isAnswer = i == answer
                guard isAnswer || outputNeeded(i, round: round, of: rounds, acting: acting) else { continue }
                var incoming: [ObjectiveTransfer] = []
                for k in edges.indices where edges[k].to == i && (edges[k].direction == .forward || round >= 2) {
                    let source = edges[k].direction == .forward ? current[edges[k].from] : previous[edges[k].from]
                    guard let source else { continue }
                    var delivered = transfer(from: source, stages: stages, edge: k, options: options)
                    let key = DeliveryKey(edge: k, round: round)
                    if let substitutes {
                        guard let other = substitutes[key] else {
                            throw .invalidArgument("the latent donor's loop delivered nothing along edge \(edgeName(k)) in round \(round)")
                        }
                        delivered.latents = other
                    }
                    deliveries[key] = delivered.latents
                    incoming.append(delivered)
                }
                let weight: Float = !isAnswer ? 0 : round == rounds ? 1 : options.finalRoundOnly ? 0 : Float(options.earlierRoundWeight) / Float(rounds - 1)
                let stage = try self.stage(i, round: round, row: isAnswer && round == rounds ? answerRow ?? row : row, incoming: incoming,
                                           train: gradient && round >= options.firstBackpropagatedRound, supervised: weight > 0,
                                           options: options)
                stages.append(stage)
                current[i] = stages.count - 1
                guard weight > 0 else { continue }
                let transformer = nodes[i].model.transformer
                let loss = stage.hidden.withUnsafeBufferPointer { h in
                    stage.hiddenGradient.withUnsafeMutableBufferPointer { g in
                        transformer.crossEntropy(hidden: h.baseAddress!, positions: stage.prompt.lossPositions, targets: stage.prompt.lossTargets,
                                                 scale: weight * scale, hiddenGradient: g.baseAddress!, precision: options.precision,
                                                 threads: options.threads)
                    }
                }
                guard loss.isFinite else { throw .nonFiniteLoss(step: -1) }
                roundLosses[round - 1] = loss
            }
            previous = current
        }
        let earlier = roundLosses.dropLast().compactMap { $0 }
        let loss = roundLosses[rounds - 1]! + (earlier.isEmpty ? 0 : options.earlierRoundWeight * earlier.reduce(0, +) / Double(earlier.count))
        var norms = Dictionary(uniqueKeysWithValues: edges.indices.map { (edgeName($0), [Double](repeating: 0, count: rounds)) })
        if gradient, !deferBackward { backward(stages, norms: &norms, options: options) }
        let result = OuterSampleResult(loss: loss, roundLosses: roundLosses, gradientNorms: norms,
                                       positions: stages.reduce(0) { $0 + $1.prompt.count })
        return (result, deliveries, stages)
    }

    /// Back-propagates each stage's hidden-state gradient to its slot rows and through the links
    /// that filled them into the stages that produced them, last stage first (every transfer
    /// goes from an earlier stage to a later one).
    func backward(_ stages: [ObjectiveStage], norms: inout [String: [Double]], options: OuterObjectiveOptions) {
        for stage in stages.reversed() {
            guard let tape = stage.tape, !stage.incoming.isEmpty else { continue }
            let d = nodes[stage.node].model.configuration.width
            // dX [T' × D] of the tape's positions P ..< P + T'.
            let start = tape.start
            let dX = if let fed = stage.fedBack, options.rolloutBackward == .exact {
                rolloutInputGradient(stage, tape: tape, fedBack: fed, threads: options.threads)
            } else {
                inputGradient(stage, tape: tape, hiddenGradient: stage.hiddenGradient, threads: options.threads)
            }
            for incoming in stage.incoming where !incoming.rows.isEmpty {
                // ∂loss/∂(latent rows): rows cut by truncation keep a zero gradient.
                var dLatents = [Float](repeating: 0, count: incoming.rows.count * d)
                if let placed = stage.prompt.slots.first(where: { $0.marker == edges[incoming.edge].marker }) {
                    for (row, position) in zip(placed.rows, placed.positions.map { $0 - start }) {
                        dLatents.replaceSubrange((row * d)..<((row + 1) * d), with: dX[(position * d)..<((position + 1) * d)])
                    }
                }
                let outer = edges[incoming.edge].link, before = outer.parameters.map(\.gradient)
                let dInner = outer.backward(incoming.outerContext, outputGradient: dLatents)
                var squared = 0.0
                for (p, old) in zip(outer.parameters, before) {
                    let new = p.gradient
                    for i in 0..<p.count { let g = Double(new[i] - old[i]); squared += g * g }
                }
                norms[edgeName(incoming.edge)]![incoming.round - 1] = squared.squareRoot()
                let source = stages[incoming.source]
                let dHidden = nodes[source.node].inner.backward(incoming.innerContext, outputGradient: dInner)
                let ds = nodes[source.node].model.configuration.width
                source.hiddenGradient.withUnsafeMutableBufferPointer { g in
                    for (k, position) in incoming.rows.enumerated() {
                        for j in 0..<ds { g[position * ds + j] += dHidden[k * ds + j] }
                    }
                }
            }
        }
    }

    /// Node `i`'s teacher-forced forward; incoming transfers fill its slots. With `train` and
    /// something upstream to train, it keeps a tape for the backward. Unless `supervised` (its
    /// answer CE is taken), only the rows passed on are read; with `skipUnreachable` the forward
    /// stops after them and the tape starts at the first slot (a plain forward fills the prefix).
    private func stage(
        _ i: Int, round: Int, row: DataRow, incoming: [ObjectiveTransfer], train: Bool, supervised: Bool,
        options: OuterObjectiveOptions
    ) throws(AgentError) -> ObjectiveStage {
        let node = nodes[i]
        var latents: [String: [Float]] = [:]
        for transfer in incoming { latents[edges[transfer.edge].marker] = transfer.latents }
        let user = userPrompt(i, question: row.question, round: round)
        let transformer = node.model.transformer, d = transformer.configuration.width
        let prompt: TeacherForcedPrompt
        var rolled: (hidden: [Float], cache: KVCache?)?
        if case .rollout(let m) = options.latentSource, !supervised {
            let rollout = try self.rollout(i, user: user, latents: latents, steps: m, options: options)
            prompt = rollout.prompt
            rolled = (rollout.hidden, rollout.cache)
        } else {
            guard let field = node.target, let target = row[field], !target.allSatisfy(\.isWhitespace) else {
                throw .invalidArgument("node '\(node.id)' has no training target in this row (field \(node.target.map { "\"\($0)\"" } ?? "none declared"))")
            }
            prompt = try TeacherForcedPrompt(model: node.model, system: systemPrompt, user: user, target: target, latents: latents,
                                             maximumLength: options.maximumLength)
        }
        let skip = options.skipUnreachable
        // Positions 0 ..< end are run: all of them when the loss is taken, else up to the last row passed on.
        let end = supervised || !skip ? prompt.count : min(prompt.count, prompt.passedPositions.lowerBound + options.maximumLatentRows)
        let firstSlot = prompt.slots.map(\.positions.lowerBound).min()
        guard train, !incoming.isEmpty, let firstSlot else {
            if let rolled {
                // The rollout's own states h₀ … h_{m−1}, at their positions: no second forward.
                let hidden = [Float](repeating: 0, count: prompt.passedPositions.lowerBound * d) + rolled.hidden
                return ObjectiveStage(node: i, round: round, prompt: prompt, tape: nil, hidden: hidden, incoming: [])
            }
            // Nothing upstream to train (a first node, or every slot cut) or no gradient wanted: a plain forward.
            let cache = KVCache(configuration: transformer.configuration, capacity: end)
            let hidden = prompt.embeddings.withUnsafeBufferPointer {
                transformer.forward(embeddings: $0.baseAddress!, count: end, cache: cache, outputs: .all, logits: false,
                                    precision: options.precision, threads: options.threads).hidden
            }
            return ObjectiveStage(node: i, round: round, prompt: prompt, tape: nil, hidden: hidden, incoming: [])
        }
        let start = skip ? firstSlot : 0
        // A rollout's cache already holds the untrained prefix.
        let prefilled = rolled?.cache.map { cache in cache.trim(to: start); return cache }
        // A rollout's fed-back inputs e_k (the positions after h₀'s) that the tape runs.
        var fedBack: Range<Int>?
        if rolled != nil, case let fed = max(start + 1, prompt.passedPositions.lowerBound + 1)..<end, !fed.isEmpty { fedBack = fed }
        // The exact rollout backward runs several backwards over such a tape: a kept tape allows one.
        let repeated = fedBack != nil && options.rolloutBackward == .exact
        let (tape, trained) = prompt.embeddings.withUnsafeBufferPointer {
            transformer.forwardForTraining(embeddings: $0.baseAddress!, count: end, trainedFrom: start, prefilled: prefilled,
                                           memory: options.keepActivations && !repeated ? .keep : .recompute,
                                           precision: options.precision, threads: options.threads)
        }
        // Hidden states of positions 0 ..< end, the prefix's left zero (no loss or transfer reads them).
        let hidden = start == 0 ? trained : [Float](repeating: 0, count: start * d) + trained
        return ObjectiveStage(node: i, round: round, prompt: prompt, tape: tape, hidden: hidden, incoming: incoming, fedBack: fedBack)
    }

    /// The first `maximumLatentRows` assistant hidden states of `stages[index]` → its node's inner
    /// link → edge `k`'s outer link.
    private func transfer(from index: Int, stages: [ObjectiveStage], edge k: Int, options: OuterObjectiveOptions) -> ObjectiveTransfer {
        let source = stages[index], d = nodes[source.node].model.configuration.width
        let rows = Array(source.prompt.passedPositions.prefix(options.maximumLatentRows))
        var h = [Float](); h.reserveCapacity(rows.count * d)
        for position in rows { h += source.hidden[(position * d)..<((position + 1) * d)] }
        let (inner, innerContext) = nodes[source.node].inner.forward(h, rows: rows.count)
        let (latents, outerContext) = edges[k].link.forward(inner, rows: rows.count)
        return ObjectiveTransfer(edge: k, round: source.round, source: index, rows: rows, innerContext: innerContext,
                                 outerContext: outerContext, latents: options.zeroLatents ? [Float](repeating: 0, count: latents.count) : latents)
    }
}

extension AgentGraph {
    /// Node `i`'s m-step latent rollout from its prompt (forward only, as ``GraphRunner`` runs it),
    /// as the sequence that reproduces it: the prompt and the fed-back inputs e₁ … e_{m−1}; with
    /// the rollout's hidden states h₀ … h_{m−1} `[m × D]` (for a stage that runs no tape) and its
    /// KV cache of that sequence (nil where the sequence was cut from the left).
    fileprivate func rollout(
        _ i: Int, user: String, latents: [String: [Float]], steps m: Int, options: OuterObjectiveOptions
    ) throws(AgentError) -> (prompt: TeacherForcedPrompt, hidden: [Float], cache: KVCache?) {
        let node = nodes[i], transformer = node.model.transformer, d = transformer.configuration.width
        let base = try SlottedPrompt(model: node.model, messages: [.system(systemPrompt), .init(role: .user, content: user)],
                                     latents: latents, addGenerationPrompt: true)
        let cache = KVCache(configuration: transformer.configuration, capacity: base.count + m)
        let rollout = base.embeddings.withUnsafeBufferPointer {
            transformer.latentRollout(prompt: $0.baseAddress!, count: base.count, steps: m, cache: cache, link: node.inner.hiddenToEmbedding,
                                      threads: options.threads)
        }
        let prompt = try TeacherForcedPrompt(rolloutOf: base, inputs: Array(rollout.embeddings.prefix((m - 1) * d)), width: d,
                                             maximumLength: options.maximumLength)
        return (prompt, rollout.hidden, cache.count == prompt.count ? cache : nil)
    }
}

/// Latent rows sent along an edge, with what their backward needs.
private struct ObjectiveTransfer {
    let edge: Int
    let round: Int
    /// Index of the producing stage and the positions of its hidden states used.
    let source: Int
    let rows: [Int]
    let innerContext: LinkNetwork.Context
    let outerContext: LinkNetwork.Context
    /// `[rows × D_target]`.
    var latents: [Float]
}

/// One node's forward in one round.
final class ObjectiveStage {
    let node: Int
    let round: Int
    let prompt: TeacherForcedPrompt
    let tape: ForwardTape?
    /// `[T × D]` post-final-norm hidden states of the positions run (T ≤ the prompt's count).
    let hidden: [Float]
    /// ∂loss/∂hidden `[T × D]`, filled by the loss and by the downstream links' backward.
    var hiddenGradient: [Float]
    fileprivate let incoming: [ObjectiveTransfer]
    /// A rollout stage with a tape: the positions q of its fed-back inputs e = inner(h at q − 1)
    /// that the tape ran (nil for teacher-forced stages and one-step rollouts).
    let fedBack: Range<Int>?

    fileprivate init(node: Int, round: Int, prompt: TeacherForcedPrompt, tape: ForwardTape?, hidden: [Float], incoming: [ObjectiveTransfer],
                     fedBack: Range<Int>? = nil) {
        self.node = node
        self.round = round
        self.prompt = prompt
        self.tape = tape
        self.hidden = hidden
        self.incoming = incoming
        self.fedBack = fedBack
        hiddenGradient = [Float](repeating: 0, count: hidden.count)
    }
}
