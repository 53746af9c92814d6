// Provenance: the answer CE of the outer objective (spec §2.4) under two other conditions, to read
// the objective's loss against: the answering node alone with the graph's single-agent prompt
// (what the prompt-tuning baseline starts from, without its soft rows), and the answering node fed
// the latents inference delivers (spec §3: m-step inner-link rollouts of the upstream nodes) instead
// of the teacher-forced text's hidden states — the train/inference mismatch spec §2.4 notes.
import Models
import RoleData

extension AgentGraph {
    /// The answering node's teacher-forced answer CE on `row` with the single-agent prompt: no
    /// other agent, no slot, forward only. The reference an outer objective's loss is read against:
    /// links whose loss stays above it make the answering model worse than it is alone.
    public func singleAgentLoss(_ row: DataRow, options: OuterObjectiveOptions) throws(AgentError) -> Double {
        try answerLoss(row, user: singleUserPrompt(question: row.question), latents: [:], options: options)
    }

    /// The answering node's teacher-forced answer CE in the final round of `options.rounds` when
    /// its slots hold what inference delivers there: every upstream node rolls `latentSteps`
    /// latent steps through its inner link from its own prompt (no teacher-forced text), exactly
    /// as ``GraphRunner`` does before the answer is decoded. The objective trains on latents made
    /// from the dataset's texts; a loss here well above the objective's says that gain does not
    /// carry over to the latents the system really sends. Forward only.
    public func inferenceLatentLoss(_ row: DataRow, latentSteps: Int, options: OuterObjectiveOptions) throws(AgentError) -> Double {
        let rounds = options.rounds
        guard rounds >= 1, latentSteps >= 1 else { throw .invalidArgument("rounds and latent steps must be at least 1") }
        var generation = GenerationParameters()
        generation.threads = options.threads
        let delivered = try GraphRunner(graph: self).deliveries(question: row.question, answeringAfter: [rounds], latentSteps: latentSteps,
                                                                generation: generation)
        var latents: [String: [Float]] = [:]
        for edge in incoming(answer, round: rounds) {
            guard let rows = delivered[GraphRunner.deliveryKey(round: rounds, node: answer, marker: edge.marker)] else {
                throw .invalidArgument("inference delivered nothing into slot '\(edge.slot)' of node '\(nodes[answer].id)' in round \(rounds)")
            }
            latents[edge.marker] = rows
        }
        return try answerLoss(row, user: userPrompt(answer, question: row.question, round: rounds), latents: latents, options: options)
    }

    /// CE of the answering node's target after [system, `user`] with `latents` spliced at their markers.
    private func answerLoss(_ row: DataRow, user: String, latents: [String: [Float]], options: OuterObjectiveOptions) throws(AgentError) -> Double {
        let node = nodes[answer]
        guard let field = node.target, let target = row[field], !target.allSatisfy(\.isWhitespace) else {
            throw .invalidArgument("node '\(node.id)' has no training target in this row (field \(node.target.map { "\"\($0)\"" } ?? "none declared"))")
        }
        let prompt = try TeacherForcedPrompt(model: node.model, system: systemPrompt, user: user, target: target, latents: latents,
                                             maximumLength: options.maximumLength)
        let transformer = node.model.transformer
        let cache = KVCache(configuration: transformer.configuration, capacity: prompt.count)
        let hidden = prompt.embeddings.withUnsafeBufferPointer {
            transformer.forward(embeddings: $0.baseAddress!, count: prompt.count, cache: cache, outputs: .all, logits: false,
                                precision: options.precision, threads: options.threads).hidden
        }
        var unused = [Float](repeating: 0, count: hidden.count)
        let loss = hidden.withUnsafeBufferPointer { h in
            unused.withUnsafeMutableBufferPointer { g in
                transformer.crossEntropy(hidden: h.baseAddress!, positions: prompt.lossPositions, targets: prompt.lossTargets,
                                         scale: 0, hiddenGradient: g.baseAddress!, precision: options.precision, threads: options.threads)
            }
        }
        guard loss.isFinite else { throw .nonFiniteLoss(step: -1) }
        return loss
    }
}
