// Provenance: the sequential outer-loop objective of spec §2.4 (reference train/outer/sequential.py):
// every agent teacher-forced on its dataset text; each stage's assistant hidden states (first
// `maximumLatentRows`) → the source's frozen inner link → the outer link → the next agent's slot;
// CE on the final round's solver answer (optionally + w · mean of earlier rounds'); gradients flow
// back through the frozen transformers and frozen inner links into all three outer links.
import Kernels
import Links
import Models
import RoleData
import Training

/// A directed edge of the sequential loop, named as its outer link's parameters are prefixed.
public enum OuterEdge: String, CaseIterable, Sendable, Codable {
    case plannerToRefiner = "planner_to_refiner"
    case refinerToSolver = "refiner_to_solver"
    case solverToPlanner = "solver_to_planner"
}

/// What the outer objective needs besides the system and the example.
public struct OuterObjectiveOptions: Sendable, Codable, Equatable {
    /// Rounds R of the loop.
    public var rounds = 3
    /// Latent rows passed along an edge: the first rows of the assistant positions (reference: 80).
    public var maximumLatentRows = 80
    /// Supervise only the final round's solver (reference default); else add
    /// `earlierRoundWeight` · mean of the earlier rounds' CE.
    public var finalRoundOnly = true
    public var earlierRoundWeight = 0.1
    /// Teacher-forced conversations longer than this are cut from the left.
    public var maximumLength = 4096
    /// Keep every activation (one forward per stage) instead of recomputing layers in the backward.
    public var keepActivations = false
    public var threads = Parallel.defaultThreadCount

    public init() {}
}

/// The objective of one example and where its gradient went.
public struct OuterSampleResult: Sendable {
    /// The supervised loss (as optimised, before any batch scaling).
    public var loss: Double
    /// Each round's solver CE (nil where it was not computed: earlier rounds with `finalRoundOnly`).
    public var roundLosses: [Double?]
    /// ‖∂loss/∂θ‖ of each outer link from each round's use of it (index: round − 1; 0 where the
    /// edge was not used in that round), after the caller's scale.
    public var gradientNorms: [OuterEdge: [Double]]
    /// Positions run through the transformers (forward).
    public var positions: Int
}

extension SequentialSystem {
    /// The outer link of `edge`.
    public func link(_ edge: OuterEdge) -> OuterLink {
        switch edge {
        case .plannerToRefiner: plannerToRefiner
        case .refinerToSolver: refinerToSolver
        case .solverToPlanner: solverToPlanner
        }
    }

    /// Every outer link's parameters (the trainable set of outer-loop training).
    public var outerParameters: ParameterSet {
        var all = ParameterSet()
        for edge in OuterEdge.allCases { try! all.append(contentsOf: link(edge).parameters) }  // unique: checked by init
        return all
    }

    /// Runs the teacher-forced loop on `example` and, with `gradient`, adds `scale` · ∂loss/∂θ
    /// into every outer link's parameter gradients (frozen inner links' gradients are touched too
    /// and must be ignored).
    public func outerObjective(
        _ example: RoleExample, options: OuterObjectiveOptions, scale: Float = 1, gradient: Bool = true
    ) throws(AgentError) -> OuterSampleResult {
        let rounds = options.rounds
        guard rounds >= 1, options.maximumLatentRows >= 1 else { throw .invalidArgument("rounds and latent rows must be at least 1") }
        var stages: [Stage] = []
        var feedback: Transfer?
        var roundLosses = [Double?](repeating: nil, count: rounds)
        for round in 1...rounds {
            let plannerStage = try stage(planner, round: round, example: example, incoming: feedback, train: gradient, options: options)
            stages.append(plannerStage)
            let toRefiner = transfer(from: stages.count - 1, stages: stages, edge: .plannerToRefiner, options: options)
            stages.append(try stage(refiner, round: round, example: example, incoming: toRefiner, train: gradient, options: options))
            let toSolver = transfer(from: stages.count - 1, stages: stages, edge: .refinerToSolver, options: options)
            let solverStage = try stage(solver, round: round, example: example, incoming: toSolver, train: gradient, options: options)
            stages.append(solverStage)
            let weight: Float = round == rounds ? 1 : options.finalRoundOnly ? 0 : Float(options.earlierRoundWeight) / Float(rounds - 1)
            if weight > 0 {
                let loss = solverStage.hidden.withUnsafeBufferPointer { h in
                    solverStage.hiddenGradient.withUnsafeMutableBufferPointer { g in
                        solver.model.transformer.crossEntropy(
                            hidden: h.baseAddress!, positions: solverStage.prompt.lossPositions, targets: solverStage.prompt.lossTargets,
                            scale: weight * scale, hiddenGradient: g.baseAddress!, threads: options.threads)
                    }
                }
                guard loss.isFinite else { throw .nonFiniteLoss(step: -1) }
                roundLosses[round - 1] = loss
            }
            if round < rounds { feedback = transfer(from: stages.count - 1, stages: stages, edge: .solverToPlanner, options: options) }
        }
        let earlier = roundLosses.dropLast().compactMap { $0 }
        let loss = roundLosses[rounds - 1]! + (earlier.isEmpty ? 0 : options.earlierRoundWeight * earlier.reduce(0, +) / Double(earlier.count))
        var norms = Dictionary(uniqueKeysWithValues: OuterEdge.allCases.map { ($0, [Double](repeating: 0, count: rounds)) })
        if gradient { backward(stages, norms: &norms, options: options) }
        return OuterSampleResult(loss: loss, roundLosses: roundLosses, gradientNorms: norms,
                                 positions: stages.reduce(0) { $0 + $1.prompt.count })
    }

    /// Back-propagates each stage's hidden-state gradient to its slot rows and through the link
    /// that filled them into the stage that produced them, last stage first (the stages form a chain).
    private func backward(_ stages: [Stage], norms: inout [OuterEdge: [Double]], options: OuterObjectiveOptions) {
        for stage in stages.reversed() {
            guard let incoming = stage.incoming, let tape = stage.tape, !incoming.rows.isEmpty else { continue }
            let transformer = stage.agent.model.transformer, d = transformer.configuration.width
            var dX = [Float](repeating: 0, count: stage.prompt.count * d)
            stage.hiddenGradient.withUnsafeBufferPointer { g in
                dX.withUnsafeMutableBufferPointer { transformer.backward(tape: tape, hiddenGradient: g.baseAddress!, embeddingGradient: $0.baseAddress!, threads: options.threads) }
            }
            // ∂loss/∂(latent rows): rows cut by truncation keep a zero gradient.
            var dLatents = [Float](repeating: 0, count: incoming.rows.count * d)
            for (row, position) in zip(stage.prompt.slotRows, stage.prompt.slotPositions) {
                dLatents.replaceSubrange((row * d)..<((row + 1) * d), with: dX[(position * d)..<((position + 1) * d)])
            }
            let outer = link(incoming.edge), before = outer.parameters.map(\.gradient)
            let dInner = outer.backward(incoming.outerContext, outputGradient: dLatents)
            var squared = 0.0
            for (p, old) in zip(outer.parameters, before) {
                let new = p.gradient
                for i in 0..<p.count { let g = Double(new[i] - old[i]); squared += g * g }
            }
            norms[incoming.edge]![incoming.round - 1] = squared.squareRoot()
            let source = stages[incoming.source]
            let dHidden = source.agent.inner.backward(incoming.innerContext, outputGradient: dInner)
            let ds = source.agent.model.configuration.width
            source.hiddenGradient.withUnsafeMutableBufferPointer { g in
                for (k, position) in incoming.rows.enumerated() {
                    for j in 0..<ds { g[position * ds + j] += dHidden[k * ds + j] }
                }
            }
        }
    }

    /// One agent's teacher-forced forward; with an incoming transfer its latents fill the slot.
    /// With `train` and something upstream to train, it keeps a tape for the backward.
    private func stage(
        _ agent: SequentialAgent, round: Int, example: RoleExample, incoming: Transfer?, train: Bool, options: OuterObjectiveOptions
    ) throws(AgentError) -> Stage {
        let user = templates.render(role: agent.role, question: example.question, round: round)
        let prompt = try TeacherForcedPrompt(
            model: agent.model, system: templates.system, user: user, target: example.target(for: agent.role),
            slot: templates.slot(for: agent.role, round: round), latents: incoming?.latents, maximumLength: options.maximumLength)
        let transformer = agent.model.transformer
        if incoming == nil || !train {
            // Nothing upstream to train (the first planner) or no gradient wanted: a plain forward.
            let cache = KVCache(configuration: transformer.configuration, capacity: prompt.count)
            let hidden = prompt.embeddings.withUnsafeBufferPointer {
                transformer.forward(embeddings: $0.baseAddress!, count: prompt.count, cache: cache, outputs: .all, logits: false,
                                    threads: options.threads).hidden
            }
            return Stage(agent: agent, round: round, prompt: prompt, tape: nil, hidden: hidden, incoming: nil)
        }
        let (tape, hidden) = prompt.embeddings.withUnsafeBufferPointer {
            transformer.forwardForTraining(embeddings: $0.baseAddress!, count: prompt.count,
                                           memory: options.keepActivations ? .keep : .recompute, threads: options.threads)
        }
        return Stage(agent: agent, round: round, prompt: prompt, tape: tape, hidden: hidden, incoming: incoming)
    }

    /// The first `maximumLatentRows` assistant hidden states of `stages[index]` → its inner link →
    /// the outer link of `edge`.
    private func transfer(from index: Int, stages: [Stage], edge: OuterEdge, options: OuterObjectiveOptions) -> Transfer {
        let source = stages[index], d = source.agent.model.configuration.width
        let rows = Array(source.prompt.assistantPositions.prefix(options.maximumLatentRows))
        var h = [Float](); h.reserveCapacity(rows.count * d)
        for position in rows { h += source.hidden[(position * d)..<((position + 1) * d)] }
        let (inner, innerContext) = source.agent.inner.forward(h, rows: rows.count)
        let (latents, outerContext) = link(edge).forward(inner, rows: rows.count)
        return Transfer(edge: edge, round: source.round, source: index, rows: rows, innerContext: innerContext,
                        outerContext: outerContext, latents: latents)
    }
}

/// Latent rows sent along an edge, with what their backward needs.
private struct Transfer {
    let edge: OuterEdge
    let round: Int
    /// Index of the producing stage and the positions of its hidden states used.
    let source: Int
    let rows: [Int]
    let innerContext: LinkNetwork.Context
    let outerContext: LinkNetwork.Context
    /// `[rows × D_target]`.
    let latents: [Float]
}

/// One agent's forward in one round.
private final class Stage {
    let agent: SequentialAgent
    let round: Int
    let prompt: TeacherForcedPrompt
    let tape: ForwardTape?
    /// `[T × D]` post-final-norm hidden states.
    let hidden: [Float]
    /// ∂loss/∂hidden `[T × D]`, filled by the loss and by the downstream link's backward.
    var hiddenGradient: [Float]
    let incoming: Transfer?

    init(agent: SequentialAgent, round: Int, prompt: TeacherForcedPrompt, tape: ForwardTape?, hidden: [Float], incoming: Transfer?) {
        self.agent = agent
        self.round = round
        self.prompt = prompt
        self.tape = tape
        self.hidden = hidden
        self.incoming = incoming
        hiddenGradient = [Float](repeating: 0, count: hidden.count)
    }
}
