// Provenance: RecursiveMAS inference over any agent graph (spec §3.1–3.4, §4): per round, nodes
// act in schedule order; a node's m latent thoughts are inner(h₀ … h_{m−1}) of its rollout, each
// edge maps them through its outer link into the target's slot (forward: this round; feedback:
// next round); only the answering node decodes text. Text and single-agent baselines (spec §5)
// run the same graph passing text, or one node's model alone.
import Kernels
import Links
import Models
import RoleData
import Tokenization

/// Executes an ``AgentGraph`` with any ``InferenceMethod``.
public struct GraphRunner: Sendable {
    public let graph: AgentGraph
    /// Runs the tool loops of nodes that have one (nil: a tool-loop node decodes plainly).
    public let tools: ToolExecutor?
    /// Where the models' forward calls run: alone, or batched with other questions' calls
    /// (a ``BatchingExecutor`` shared by the threads answering them).
    public let executor: any ForwardExecutor
    /// The answering model's tuned prompt rows, for the `single-tuned` and `latent-tuned` methods.
    public let softPrompt: SoftPrompt?
    /// Prompt prefixes already run (nil: every prompt runs whole). With one, each prompt's text
    /// before its first latent row (all but its last position when it has none) runs as its own
    /// forward call or comes from the cache, so answers do not depend on what was cached.
    public let prefixes: PrefixCache?
    /// Stage results already computed (nil: every stage runs): a rollout or decode whose node,
    /// prompt and settings equal a stored one's reuses its result (``StageMemo``).
    public let memo: StageMemo?

    public init(graph: AgentGraph, tools: ToolExecutor? = nil, executor: any ForwardExecutor = .direct, softPrompt: SoftPrompt? = nil,
                prefixes: PrefixCache? = nil, memo: StageMemo? = nil) {
        self.graph = graph
        self.tools = tools
        self.executor = executor
        self.softPrompt = softPrompt
        self.prefixes = prefixes
        self.memo = memo
    }

    /// The same runner with its forward calls run by `executor`.
    public func with(executor: any ForwardExecutor) -> GraphRunner {
        GraphRunner(graph: graph, tools: tools, executor: executor, softPrompt: softPrompt, prefixes: prefixes, memo: memo)
    }

    /// Puts `prompt`'s reusable prefix into the empty `cache` (see ``prefixes``); returns the
    /// positions it covers, after which the caller runs the rest.
    func prefill(_ transformer: Transformer, prompt: SlottedPrompt, cache: KVCache, precision: ActivationPrecision = .float32,
                 threads: Int) -> Int {
        guard prefixes != nil else { return 0 }
        let leading = prompt.tokens.prefix { $0 != nil }.prefix(prompt.count - 1).map { $0! }
        return prompt.embeddings.withUnsafeBufferPointer {
            transformer.prefill(prefixes, embeddings: $0.baseAddress!, tokens: leading, cache: cache, precision: precision,
                                executor: executor, threads: threads)
        }
    }

    /// Answers `question` with `method` after `rounds` rounds. `.single` runs `singleNode`'s
    /// model (default: the answering node's) alone and ignores rounds and latent steps;
    /// `.latentShuffled` fills every slot with what `donor`'s run delivered there. With
    /// `answerRetry`, a final text without an answer of `answerForm` gets that form's retry (math: the "Final Answer: \boxed{"
    /// continuation of spec §3.3. `samples` > 1 (pass@k, latent only) repeats only the final decode.
    public func run(
        question: String, method: InferenceMethod, rounds: Int, latentSteps: Int, generation: GenerationParameters,
        answerRetry: Bool = false, answerForm: AnswerForm = .math, samples: Int = 1, singleNode: Int? = nil, donor: String? = nil,
        events: (RunEvent) -> Void = { _ in }
    ) throws(AgentError) -> SystemRunResult {
        guard rounds >= 1 else { throw .invalidArgument("rounds must be at least 1") }
        return try run(question: question, method: method, roundCounts: [rounds], latentSteps: latentSteps, generation: generation,
                       answerRetry: answerRetry, answerForm: answerForm, samples: samples, singleNode: singleNode, donor: donor,
                       events: events)[rounds]!
    }

    /// Answers once for each round count in `roundCounts`, in one pass of the largest: a run of r
    /// rounds is a prefix of a run of r + 1 (same prompts, same computation), so the answer after
    /// round r is what a run of r rounds returns, with exactly its stages.
    public func run(
        question: String, method: InferenceMethod, roundCounts: Set<Int>, latentSteps: Int, generation: GenerationParameters,
        answerRetry: Bool = false, answerForm: AnswerForm = .math, samples: Int = 1, singleNode: Int? = nil, donor: String? = nil,
        events: (RunEvent) -> Void = { _ in }
    ) throws(AgentError) -> [Int: SystemRunResult] {
        if answerForm == .code, graph.answerForm != .code {  // code tasks: every prompt carries the code instruction
            var coding = graph
            coding.answerForm = .code
            return try GraphRunner(graph: coding, tools: tools, executor: executor, softPrompt: softPrompt, prefixes: prefixes, memo: memo).run(
                question: question, method: method, roundCounts: roundCounts, latentSteps: latentSteps, generation: generation,
                answerRetry: answerRetry, answerForm: answerForm, samples: samples, singleNode: singleNode, donor: donor, events: events)
        }
        guard !roundCounts.isEmpty, roundCounts.allSatisfy({ $0 >= 1 }) else { throw .invalidArgument("round counts must be at least 1") }
        guard samples >= 1 else { throw .invalidArgument("samples must be at least 1") }
        guard samples == 1 || method == .latent || method == .selfConsistency else {
            throw .invalidArgument("several samples are supported by the latent and self-consistency methods only")
        }
        guard latentSteps >= 1 || method == .text || method == .single || method == .singleTuned || method == .selfConsistency else {
            throw .invalidArgument("latent steps must be at least 1")
        }
        guard generation.maxTokens >= 1 else { throw .invalidArgument("the token budget must be at least 1") }
        if let singleNode, !graph.nodes.indices.contains(singleNode) { throw .invalidArgument("no node \(singleNode)") }
        var results: [Int: SystemRunResult]
        var answering = graph.answer
        switch method {
        case .latent, .latentZero:
            results = try rounds(question: question, answeringAfter: roundCounts, latentSteps: latentSteps, generation: generation,
                                 samples: samples, latent: true, messages: method == .latentZero ? .zeros : .own, events: events)
        case .latentTuned:
            results = try rounds(question: question, answeringAfter: roundCounts, latentSteps: latentSteps, generation: generation,
                                 samples: samples, latent: true, messages: .own, answerRows: try tunedRows(for: answering), events: events)
        case .latentShuffled:
            guard let donor else { throw .invalidArgument("latent-shuffled needs another question to take the latents from") }
            // The donor question's run through the same graph, recording every delivery, no answer decoded.
            let delivered = try deliveries(question: donor, answeringAfter: roundCounts, latentSteps: latentSteps, generation: generation)
            results = try rounds(question: question, answeringAfter: roundCounts, latentSteps: latentSteps, generation: generation,
                                 samples: samples, latent: true, messages: .donor(delivered), events: events)
        case .text:
            results = try rounds(question: question, answeringAfter: roundCounts, latentSteps: 0, generation: generation,
                                 samples: 1, latent: false, messages: .own, events: events)
        case .selfConsistency:
            answering = singleNode ?? graph.answer
            let answer = try selfConsistency(question: question, node: answering, samples: samples, generation: generation,
                                             answerRetry: answerRetry, form: answerForm, events: events)
            return Dictionary(uniqueKeysWithValues: roundCounts.map { ($0, answer) })  // samples were retried one by one
        case .single, .singleTuned, .solverInner:
            answering = singleNode ?? graph.answer
            let answer: SystemRunResult
            switch method {
            case .single: answer = try single(question: question, node: answering, generation: generation, events: events)
            case .singleTuned:
                answer = try single(question: question, node: answering, generation: generation, softPrompt: try tunedRows(for: answering),
                                    events: events)
            default:
                answer = try selfThinking(question: question, node: answering, latentSteps: latentSteps, generation: generation, events: events)
            }
            results = Dictionary(uniqueKeysWithValues: roundCounts.map { ($0, answer) })
        }
        if answerRetry {
            for r in results.keys { retryAnswer(&results[r]!, node: answering, generation: generation, form: answerForm) }
        }
        return results
    }

    /// The soft prompt, checked against node `i`'s width (single-tuned, latent-tuned).
    private func tunedRows(for i: Int) throws(AgentError) -> SoftPrompt {
        guard let softPrompt else { throw .invalidArgument("single-tuned and latent-tuned need a soft prompt (rmas train prompt)") }
        guard softPrompt.width == graph.nodes[i].model.configuration.width else {
            throw .invalidArgument("the soft prompt's width \(softPrompt.width) is not node '\(graph.nodes[i].id)''s")
        }
        return softPrompt
    }

    /// Where the latents a node receives come from.
    enum LatentMessages {
        /// Its sources' latents through the edges' links (RecursiveMAS).
        case own
        /// Zeros of the same shape (the latent-zero control).
        case zeros
        /// What another question's run delivered to the same slot in the same round
        /// (the latent-shuffled control), keyed as ``deliveryKey(round:node:marker:)``.
        case donor([String: [Float]])
    }

    static func deliveryKey(round: Int, node: Int, marker: String) -> String { "\(round)/\(node)/\(marker)" }

    /// Every latent delivery of a latent run of `question` through the largest of `answeringAfter`
    /// rounds, keyed by ``deliveryKey(round:node:marker:)``; forward only, no answer decoded. `sent`
    /// sees each node's rollout before any link, as in the round loop below.
    func deliveries(
        question: String, answeringAfter: Set<Int>, latentSteps m: Int, generation: GenerationParameters,
        sent: ((Int, Int, [Float]) -> Void)? = nil
    ) throws(AgentError) -> [String: [Float]] {
        var delivered: [String: [Float]] = [:]
        _ = try rounds(question: question, answeringAfter: answeringAfter, latentSteps: m, generation: generation, samples: 1,
                       latent: true, messages: .own, decodeAnswers: false, capture: { delivered[$0] = $1 }, sent: sent, events: { _ in })
        return delivered
    }

    /// The round loop of the graph methods. `latent`: nodes roll out m latent steps and pass
    /// latents (from `messages`); otherwise every acting node decodes text that fills the next
    /// slots. `capture` sees every delivery, `sent` every node's rollout before any link (round, node);
    /// without `decodeAnswers` the answering node never decodes.
    /// `answerRows` (latent-tuned) follow the answering node's message when it decodes, as they
    /// follow the single-agent message in single-tuned; its latent rollouts do not see them.
    func rounds(
        question: String, answeringAfter: Set<Int>, latentSteps m: Int, generation: GenerationParameters, samples: Int,
        latent: Bool, messages: LatentMessages, decodeAnswers: Bool = true, capture: ((String, [Float]) -> Void)? = nil,
        sent: ((Int, Int, [Float]) -> Void)? = nil,
        answerRows: SoftPrompt? = nil, events: (RunEvent) -> Void
    ) throws(AgentError) -> [Int: SystemRunResult] {
        let total = answeringAfter.max()!
        var stages: [StageRecord] = []
        var results: [Int: SystemRunResult] = [:]
        var previous: [Int: Message] = [:]
        for round in 1...total {
            var current: [Int: Message] = [:]
            let acting = graph.acting(round: round, of: total)
            for i in acting {
                // A cancelled run stops before its next stage (the current one stops at its next token).
                if generation.cancellation?.isCancelled == true { throw .cancelled }
                var (latents, texts) = inputs(i, round: round, rows: m, current: current, previous: previous)
                for (marker, rows) in latents { capture?(Self.deliveryKey(round: round, node: i, marker: marker), rows) }
                switch messages {
                case .own: break
                case .zeros: latents = latents.mapValues { [Float](repeating: 0, count: $0.count) }
                case .donor(let delivered):
                    latents = Dictionary(uniqueKeysWithValues: latents.map { marker, rows in
                        (marker, delivered[Self.deliveryKey(round: round, node: i, marker: marker)] ?? [Float](repeating: 0, count: rows.count))
                    })
                }
                let prompt = try slottedPrompt(i, question: question, round: round, latents: latents, texts: texts)
                let isAnswer = i == graph.answer
                let answers = decodeAnswers && isAnswer && (answeringAfter.contains(round) || graph.decodeEveryRound)
                let needed = graph.outputNeeded(i, round: round, of: total, acting: acting)
                if !latent {
                    guard answers || needed || isAnswer else { continue }
                    let record = decode(i, round: round, prompt: prompt, generation: generation, events: events)
                    stages.append(record)
                    current[i] = .text(record.text ?? "")
                    if answeringAfter.contains(round) && isAnswer { results[round] = SystemRunResult(text: record.text ?? "", stages: stages) }
                    continue
                }
                if answers {
                    let prompt = try answerRows.map { rows throws(AgentError) in
                        try slottedPrompt(i, question: question, round: round, latents: latents, texts: texts, softPrompt: rows)
                    } ?? prompt
                    var answered = stages, texts: [String] = []
                    for k in 0..<samples {
                        var parameters = generation
                        parameters.sampling.seed = generation.sampling.seed &+ UInt64(k)
                        let record = decode(i, round: round, prompt: prompt, generation: parameters, events: events)
                        texts.append(record.text ?? "")
                        answered.append(record)
                    }
                    if graph.decodeEveryRound { stages = answered }
                    if answeringAfter.contains(round) {
                        results[round] = SystemRunResult(text: texts[0], alternatives: Array(texts.dropFirst()), stages: answered)
                    }
                }
                if needed {
                    let rows = rollout(i, round: round, prompt: prompt, steps: m, threads: generation.threads, stages: &stages, events: events)
                    sent?(round, i, rows)
                    current[i] = .latent(rows)
                }
            }
            previous = current
        }
        return results
    }

    /// What node `i` receives in `round`: per slot marker, latents mapped by the edge's link; or
    /// per slot name, the source's text.
    private func inputs(
        _ i: Int, round: Int, rows m: Int, current: [Int: Message], previous: [Int: Message]
    ) -> (latents: [String: [Float]], texts: [String: String]) {
        var latents: [String: [Float]] = [:], texts: [String: String] = [:]
        for edge in graph.incoming(i, round: round) {
            switch (edge.direction == .forward ? current : previous)[edge.from] {
            case .latent(let rows): latents[edge.marker] = edge.link(rows, rows: m)
            case .text(let text): texts[edge.slot] = text
            case nil: texts[edge.slot] = ""  // unreachable for a valid graph: the source acted before
            }
        }
        return (latents, texts)
    }

    func slottedPrompt(
        _ i: Int, question: String, round: Int, latents: [String: [Float]], texts: [String: String], softPrompt: SoftPrompt? = nil
    ) throws(AgentError) -> SlottedPrompt {
        var user = graph.userPrompt(i, question: question, round: round, slotTexts: texts), latents = latents
        if let softPrompt {
            user = SoftPrompt.userPrompt(user)
            latents[SoftPrompt.marker] = softPrompt.parameter.values
        }
        return try SlottedPrompt(model: graph.nodes[i].model, messages: [.system(graph.systemPrompt), .init(role: .user, content: user)],
                                 latents: latents)
    }

    /// Node `i`'s m latent thoughts, inner(h₀ … h_{m−1}) `[m × D]`, for `prompt`, computed.
    func computeRollout(
        _ i: Int, round: Int, prompt: SlottedPrompt, steps m: Int, threads: Int, stages: inout [StageRecord], events: (RunEvent) -> Void
    ) -> [Float] {
        let node = graph.nodes[i]
        events(.stageStarted(node: node.id, round: round, kind: .latent))
        let clock = ContinuousClock(), start = clock.now
        let transformer = node.model.transformer
        let cache = KVCache(configuration: transformer.configuration, capacity: prompt.count + m)
        let done = prefill(transformer, prompt: prompt, cache: cache, threads: threads), d = transformer.configuration.width
        let result = prompt.embeddings.withUnsafeBufferPointer {
            transformer.latentRollout(prompt: $0.baseAddress! + done * d, count: prompt.count - done, steps: m, cache: cache,
                                      link: node.inner.hiddenToEmbedding, threads: threads, executor: executor)
        }
        let record = StageRecord(round: round, node: node.id, promptTokens: prompt.count - prompt.latentCount,
                                 latentInputs: prompt.latentCount, latentSteps: m, generatedTokens: 0, seconds: (clock.now - start).seconds)
        stages.append(record)
        events(.stageFinished(record))
        return result.embeddings
    }
}

/// What a node passed on in a round.
enum Message {
    /// `[m × D_source]` latent thoughts (before any outer link).
    case latent([Float])
    case text(String)
}
