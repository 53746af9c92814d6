// Provenance: the answer CE of the outer objective (spec §2.4) for the answering node alone, under
// the graph's single-agent prompt — the same quantity the prompt-tuning baseline starts from
// (PromptTuner) without its soft rows.
import Models
import RoleData

extension AgentGraph {
    /// The answering node's teacher-forced answer CE on `row` with the single-agent prompt: no
    /// other agent, no slot, forward only. The reference an outer objective's loss is read against:
    /// links whose loss stays above it make the answering model worse than it is alone.
    public func singleAgentLoss(_ row: DataRow, options: OuterObjectiveOptions) throws(AgentError) -> Double {
        let node = nodes[answer]
        guard let field = node.target, let target = row[field], !target.allSatisfy(\.isWhitespace) else {
            throw .invalidArgument("node '\(node.id)' has no training target in this row (field \(node.target.map { "\"\($0)\"" } ?? "none declared"))")
        }
        let prompt = try TeacherForcedPrompt(model: node.model, system: systemPrompt, user: singleUserPrompt(question: row.question),
                                             target: target, latents: [:], maximumLength: options.maximumLength)
        let transformer = node.model.transformer
        let cache = KVCache(configuration: transformer.configuration, capacity: prompt.count)
        let hidden = prompt.embeddings.withUnsafeBufferPointer {
            transformer.forward(embeddings: $0.baseAddress!, count: prompt.count, cache: cache, outputs: .all, logits: false,
                                threads: options.threads).hidden
        }
        var unused = [Float](repeating: 0, count: hidden.count)
        let loss = hidden.withUnsafeBufferPointer { h in
            unused.withUnsafeMutableBufferPointer { g in
                transformer.crossEntropy(hidden: h.baseAddress!, positions: prompt.lossPositions, targets: prompt.lossTargets,
                                         scale: 0, hiddenGradient: g.baseAddress!, threads: options.threads)
            }
        }
        guard loss.isFinite else { throw .nonFiniteLoss(step: -1) }
        return loss
    }
}
