// Provenance: this project's (not the reference's): the backward of the rollout objective
// (`LatentSource.rollout`) through a latent rollout's feedback chain h_{k−1} → inner link → e_k
// (spec §3.1), by fixed-point passes over the stage's tape.
import Models

/// How the rollout objective's backward treats a rollout's fed-back inputs e₁ … e_{m−1}.
public enum RolloutBackward: String, Sendable, Codable, CaseIterable {
    /// Held constant: one backward per stage. A link's gradient reaches the rows through the slot
    /// and attention, not along h_{k−1} → e_k → h_k. Exact for m = 1 and for edges into the
    /// answering node (whose stage rolls nothing out); for edges further upstream, on tiny random
    /// models at m = 4 and 16, 3–15× too small and once of the wrong sign.
    case truncated
    /// Differentiated: the stage's backward is repeated with ∂loss/∂e_k carried back through the
    /// frozen inner link into ∂loss/∂h_{k−1}, until that carried gradient stops changing (relative
    /// change ≤ 1e-5) or the chain's length is covered: at most m backward passes per rollout
    /// stage, where pass j is exact for every chain of up to j links. Those stages recompute their
    /// layers in each pass (a kept tape allows one backward).
    case exact
}

extension AgentGraph {
    /// dX `[T' × D]` of the tape's positions for the hidden-state gradient `g` `[T × D]` (positions
    /// before the tape are not read).
    func inputGradient(_ stage: ObjectiveStage, tape: ForwardTape, hiddenGradient g: [Float], threads: Int) -> [Float] {
        let transformer = nodes[stage.node].model.transformer, d = transformer.configuration.width
        var dX = [Float](repeating: 0, count: tape.positions * d)
        g.withUnsafeBufferPointer { g in
            dX.withUnsafeMutableBufferPointer {
                transformer.backward(tape: tape, hiddenGradient: g.baseAddress! + tape.start * d, embeddingGradient: $0.baseAddress!,
                                     threads: threads)
            }
        }
        return dX
    }

    /// dX `[T' × D]` of a rollout stage with the feedback chain differentiated
    /// (``RolloutBackward/exact``): the fixed point of g = g_loss + Σ_q place(q − 1, J_innerᵀ dX[q]),
    /// dX = backward(g), over the fed-back positions q. The chain is causal (e_q depends on
    /// positions before q only), so the fixed point is reached after at most `fedBack.count` + 1
    /// passes; the loop stops earlier once the carried gradient no longer moves.
    func rolloutInputGradient(_ stage: ObjectiveStage, tape: ForwardTape, fedBack: Range<Int>, threads: Int) -> [Float] {
        let node = nodes[stage.node], d = node.model.configuration.width, n = fedBack.count
        // h_{q−1} `[n × D]`, the inner link's inputs that made e_q, and its context for the backward.
        var h = [Float](); h.reserveCapacity(n * d)
        for q in fedBack { h += stage.hidden[((q - 1) * d)..<(q * d)] }
        let context = node.inner.forward(h, rows: n).context
        var g = stage.hiddenGradient, carried: [Float]?
        for _ in 0..<n {
            let dX = inputGradient(stage, tape: tape, hiddenGradient: g, threads: threads)
            var dE = [Float](); dE.reserveCapacity(n * d)
            for q in fedBack { dE += dX[((q - tape.start) * d)..<((q - tape.start + 1) * d)] }
            let dH = node.inner.backward(context, outputGradient: dE)
            if let carried, Self.settled(dH, previous: carried) { return dX }
            g = stage.hiddenGradient
            for (k, q) in fedBack.enumerated() {
                for j in 0..<d { g[(q - 1) * d + j] += dH[k * d + j] }
            }
            carried = dH
        }
        // g now holds every chain of up to n links: the whole chain.
        return inputGradient(stage, tape: tape, hiddenGradient: g, threads: threads)
    }

    /// ‖a − b‖ ≤ 1e-5 ‖a‖ (or both zero).
    private static func settled(_ a: [Float], previous b: [Float]) -> Bool {
        var difference = 0.0, norm = 0.0
        for i in a.indices {
            let x = Double(a[i]), y = Double(b[i])
            difference += (x - y) * (x - y)
            norm += x * x
        }
        return difference <= 1e-10 * norm
    }
}
