// Provenance: this project's (not the reference's). A hinge on the outer objective, in the spirit
// of contrastive/triplet losses: the answer's loss under the row's own latent messages must
// undercut its loss under another row's messages by a margin. The controls of
// ../shared/docs/anchors.md (swap-the-message) find trained channels at this scale mostly act as a
// fixed prompt; a fixed prompt lowers both losses alike and so cannot lower this term.
import Kernels
import Links
import Models
import RoleData

/// The margin term of the outer objective: with L_own the final answer's CE under the row's own
/// messages and L_donor its CE (same question, same target) under the messages another row's
/// conversation sends, the loss is L_own + weight · max(0, margin + L_own − L_donor).
public struct LatentMargin: Sendable, Codable, Equatable {
    /// δ in nats per target token (the CE is a mean over the target's tokens).
    public var margin: Double
    /// λ, the hinge's weight.
    public var weight: Double

    public init(margin: Double, weight: Double = 1) {
        self.margin = margin
        self.weight = weight
    }

    public func validate() throws(AgentError) {
        try AgentError.check("latent margin", margin, in: 0...100)
        try AgentError.check("latent margin weight", weight, in: 1e-6...1e3)
    }
}

/// One row's margin objective: the optimised loss and its two parts.
public struct LatentMarginResult: Sendable {
    /// L_own + λ · max(0, δ + L_own − L_donor), as optimised (before any batch scaling).
    public var loss: Double
    public var ownLoss: Double
    public var donorLoss: Double
    /// Whether the hinge was active (its gradient taken).
    public var active: Bool
    /// Per edge, per round (index round − 1): the root of the sum of squares of the own and the
    /// donor path's gradient norms (the two paths are back-propagated separately).
    public var gradientNorms: [String: [Double]]
    /// Positions run through the transformers, both conversations.
    public var positions: Int
}

extension AgentGraph {
    /// The outer objective of `row` with ``OuterObjectiveOptions/latentMargin``: the row's own
    /// loop, and `donor`'s loop whose final answering stage answers `row`'s question on `row`'s
    /// target with every message of `donor`'s conversation. With `gradient`, adds `scale` ·
    /// ∂loss/∂θ into the outer links (the donor's path only while the hinge is active, with the
    /// opposite sign: it pushes the donor's messages away from helping this answer).
    public func outerObjective(
        _ row: DataRow, marginAgainst donor: DataRow, options: OuterObjectiveOptions, scale: Float = 1, gradient: Bool = true
    ) throws(AgentError) -> LatentMarginResult {
        guard let term = options.latentMargin else { throw .invalidArgument("the margin objective needs options.latentMargin") }
        try options.validate()
        guard !options.zeroLatents else { throw .invalidArgument("the margin objective compares real messages; zero latents have none") }
        let own = try loop(row, options: options, scale: scale, gradient: gradient, substitutes: nil, deferBackward: true)
        let other = try loop(donor, options: options, scale: scale, gradient: gradient, substitutes: nil, answerRow: row,
                             deferBackward: true)
        let ownLoss = own.result.loss, donorLoss = other.result.loss
        let hinge = term.margin + ownLoss - donorLoss
        let active = hinge > 0
        let loss = ownLoss + (active ? term.weight * hinge : 0)
        guard loss.isFinite else { throw .nonFiniteLoss(step: -1) }
        let empty = Dictionary(uniqueKeysWithValues: edges.indices.map { (edgeName($0), [Double](repeating: 0, count: options.rounds)) })
        var norms = empty
        if gradient {
            // The loop's loss gradients are for L_own (and L_donor) at `scale`; the backward is
            // linear in them, so the hinge's factors scale the stages' gradients beforehand.
            Self.scaleGradients(own.stages, by: Float(1 + (active ? term.weight : 0)))
            backward(own.stages, norms: &norms, options: options)
            if active {
                Self.scaleGradients(other.stages, by: -Float(term.weight))
                var donorNorms = empty
                backward(other.stages, norms: &donorNorms, options: options)
                for (edge, values) in donorNorms {
                    norms[edge] = zip(norms[edge]!, values).map { ($0 * $0 + $1 * $1).squareRoot() }
                }
            }
        }
        return LatentMarginResult(loss: loss, ownLoss: ownLoss, donorLoss: donorLoss, active: active, gradientNorms: norms,
                                  positions: own.result.positions + other.result.positions)
    }

    private static func scaleGradients(_ stages: [ObjectiveStage], by factor: Float) {
        for stage in stages {
            stage.hiddenGradient.withUnsafeMutableBufferPointer { g in
                for i in g.indices { g[i] *= factor }
            }
        }
    }
}

/// Which other training row lends its messages to row `index` at `step`: never the row itself,
/// and a pure function of (seed, step, index), so a resumed run picks the same donors.
public func marginDonor(of index: Int, step: Int, count: Int, seed: UInt64) -> Int {
    precondition(count >= 2 && (0..<count).contains(index))
    var rng = SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: step) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(truncatingIfNeeded: index) &* 0xC2B2_AE3D_27D4_EB4F))
    let offset = 1 + Int(rng.next() % UInt64(count - 1))
    return (index + offset) % count
}
