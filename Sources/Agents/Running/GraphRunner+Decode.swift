// Text generation of a node: plain decoding, the single-agent baseline, the answer retry of
// spec §3.3, and the tool loop of spec §4.4 for nodes that have one.
import Foundation
import Models
import RoleData
import Tokenization

/// Runs one tool call for a tool loop (the sandboxed Python interpreter, the document search).
public protocol ToolExecutor: Sendable {
    /// The call's record: its input, the result text the model reads, and any limit that cut it.
    func call(_ tool: ToolKind, input: String) -> ToolCallRecord
}

extension GraphRunner {
    /// Decodes node `i`'s reply to `prompt` (sampling per `generation`, the model's stop strings
    /// added) as one stage; a tool-loop node interleaves tool calls (when ``tools`` is set).
    func computeDecode(_ i: Int, round: Int, prompt: SlottedPrompt, generation: GenerationParameters, events: (RunEvent) -> Void) -> StageRecord {
        let node = graph.nodes[i]
        events(.stageStarted(node: node.id, round: round, kind: .decode))
        let clock = ContinuousClock(), start = clock.now
        let model = node.model
        let cache = KVCache(configuration: model.configuration, capacity: prompt.count + generation.maxTokens + 1)
        let precision = generation.precision.prompt  // the prefill's products in the asked format (bf16 or fp32)
        let done = prefill(model.transformer, prompt: prompt, cache: cache, precision: precision, threads: generation.threads)
        let logits = prompt.embeddings.withUnsafeBufferPointer {
            executor.forward(model.transformer, embeddings: $0.baseAddress! + done * model.configuration.width, count: prompt.count - done,
                             cache: cache, precision: precision, threads: generation.threads).logits
        }
        var parameters = generation
        parameters.stopStrings += model.chatTemplate?.stopStrings ?? []
        let onText: (String) -> Bool = { events(.text(node: node.id, round: round, chunk: $0)); return true }
        var text: String, generated: Int, calls: [ToolCallRecord]?
        if case .toolLoop(let options) = node.decoder, let tools {
            (text, generated, calls) = toolLoop(model: model, prompt: prompt, cache: cache, logits: logits, parameters: parameters,
                                                options: options, tools: tools, node: node.id, round: round, onText: onText, events: events)
        } else {
            let result = Generator(model: model, executor: executor).generate(afterLogits: logits, history: prompt.tokens.compactMap { $0 }, cache: cache,
                                                          parameters: parameters, onText: onText)
            (text, generated, calls) = (result.text, result.tokens.count, nil)
        }
        let record = StageRecord(round: round, node: node.id, promptTokens: prompt.count - prompt.latentCount,
                                 latentInputs: prompt.latentCount, latentSteps: 0, generatedTokens: generated,
                                 seconds: (clock.now - start).seconds, text: text, toolCalls: calls)
        events(.stageFinished(record))
        return record
    }

    /// Node `i`'s model alone, with the single-agent prompt.
    func single(
        question: String, node i: Int, generation: GenerationParameters, softPrompt: SoftPrompt? = nil, events: (RunEvent) -> Void
    ) throws(AgentError) -> SystemRunResult {
        var user = graph.singleUserPrompt(question: question), latents: [String: [Float]] = [:]
        if let softPrompt {
            user = SoftPrompt.userPrompt(user)
            latents[SoftPrompt.marker] = softPrompt.parameter.values
        }
        let prompt = try SlottedPrompt(model: graph.nodes[i].model, messages: [.system(graph.systemPrompt), .init(role: .user, content: user)],
                                       latents: latents)
        let record = decode(i, round: 1, prompt: prompt, generation: generation, events: events)
        return SystemRunResult(text: record.text ?? "", stages: [record])
    }

    /// The solver-inner control: node `i`'s model alone with the single-agent prompt, thinking `m`
    /// latent steps through its own inner link (each step's inner(h) fed back as the next input)
    /// before it decodes — the self-refinement a trained latent channel could be giving without
    /// any other agent. One stage: its latent steps and generated tokens.
    func selfThinking(
        question: String, node i: Int, latentSteps m: Int, generation: GenerationParameters, events: (RunEvent) -> Void
    ) throws(AgentError) -> SystemRunResult {
        let node = graph.nodes[i], model = node.model, d = model.configuration.width
        let prompt = try SlottedPrompt(model: model, messages: [.system(graph.systemPrompt),
                                                                .init(role: .user, content: graph.singleUserPrompt(question: question))],
                                       latents: [:])
        events(.stageStarted(node: node.id, round: 1, kind: .decode))
        let clock = ContinuousClock(), start = clock.now
        let cache = KVCache(configuration: model.configuration, capacity: prompt.count + m + generation.maxTokens + 1)
        let done = prefill(model.transformer, prompt: prompt, cache: cache, threads: generation.threads)
        let rollout = prompt.embeddings.withUnsafeBufferPointer {
            model.transformer.latentRollout(prompt: $0.baseAddress! + done * d, count: prompt.count - done, steps: m, cache: cache,
                                            link: node.inner.hiddenToEmbedding, threads: generation.threads, executor: executor)
        }
        // The rollout cached the prompt and latents 1 … m − 1; the last latent gives the first logits.
        let logits = Array(rollout.embeddings[((m - 1) * d)...]).withUnsafeBufferPointer {
            executor.forward(model.transformer, embeddings: $0.baseAddress!, count: 1, cache: cache, threads: generation.threads).logits
        }
        var parameters = generation
        parameters.stopStrings += model.chatTemplate?.stopStrings ?? []
        let result = Generator(model: model, executor: executor).generate(
            afterLogits: logits, history: prompt.tokens.compactMap { $0 }, cache: cache, parameters: parameters,
            onText: { events(.text(node: node.id, round: 1, chunk: $0)); return true })
        let record = StageRecord(round: 1, node: node.id, promptTokens: prompt.count, latentInputs: 0, latentSteps: m,
                                 generatedTokens: result.tokens.count, seconds: (clock.now - start).seconds, text: result.text)
        events(.stageFinished(record))
        return SystemRunResult(text: result.text, stages: [record])
    }

    /// The self-consistency baseline: node `i`'s model alone answers `samples` times (sampling
    /// seeds seed … seed + k − 1, each reply retried on its own when `answerRetry`), and the answer
    /// given most often wins (ties: the earliest). The result is the first reply with that answer;
    /// every reply's stage counts.
    func selfConsistency(
        question: String, node i: Int, samples k: Int, generation: GenerationParameters, answerRetry: Bool, form: AnswerForm,
        events: (RunEvent) -> Void
    ) throws(AgentError) -> SystemRunResult {
        guard k >= 2, generation.sampling.temperature > 0 else {
            throw .invalidArgument("self-consistency needs at least 2 samples and a temperature above 0")
        }
        var replies: [SystemRunResult] = []
        for s in 0..<k {
            var parameters = generation
            parameters.sampling.seed = generation.sampling.seed &+ UInt64(s)
            var reply = try single(question: question, node: i, generation: parameters, events: events)
            if answerRetry { retryAnswer(&reply, node: i, generation: parameters, form: form) }
            replies.append(reply)
        }
        let chosen = Self.majority(replies.map { form.extract(from: $0.text).map(form.canonical) }) ?? 0
        return SystemRunResult(text: replies[chosen].text, alternatives: replies.indices.filter { $0 != chosen }.map { replies[$0].text },
                               stages: replies.flatMap(\.stages))
    }

    /// The index of the first answer given most often among `answers` (nil ones do not vote);
    /// nil when none parsed.
    static func majority(_ answers: [String?]) -> Int? {
        var counts: [String: Int] = [:]
        for case let answer? in answers { counts[answer, default: 0] += 1 }
        guard let top = counts.values.max() else { return nil }
        return answers.firstIndex { $0.map { counts[$0] == top } ?? false }
    }

    /// Spec §3.3: when the final text has no answer of `form`, node `i`'s model continues
    /// `text + form.retry.prefix` (math: `"\nFinal Answer: \boxed{"`, 16 tokens; letter:
    /// `"\nThe answer is ("`, 2 tokens) as a plain LM (no chat format, no question); the result
    /// is the whole continued string. Its tokens count in the last stage. With a token budget of
    /// 0 nothing is generated, the retry included; code has no retry.
    func retryAnswer(_ result: inout SystemRunResult, node i: Int, generation: GenerationParameters, form: AnswerForm = .math) {
        guard generation.maxTokens > 0, let retry = form.retry, form.extract(from: result.text) == nil,
              var last = result.stages.popLast() else { return }
        let clock = ContinuousClock(), start = clock.now
        let prefix = result.text + retry.prefix
        let model = graph.nodes[i].model
        let tokens = model.tokenizer.encode(prefix, addBOS: model.tokenizer.addBOSByDefault, parseSpecial: false)
        var parameters = generation
        parameters.maxTokens = retry.tokens
        let cache = KVCache(configuration: model.configuration, capacity: tokens.count + parameters.maxTokens + 1)
        let continuation = Generator(model: model, executor: executor).generate(prompt: tokens, cache: cache, parameters: parameters)
        result.text = prefix + continuation.text
        last.promptTokens += tokens.count
        last.generatedTokens += continuation.tokens.count
        last.seconds += (clock.now - start).seconds
        last.text = result.text
        result.stages.append(last)
    }

    /// Spec §4.4's tool loop (``ToolLoop``) on node `model`, keeping the prompt's cache: after a
    /// call the assistant text so far is re-tokenized and re-fed after the cached prompt (the
    /// reference re-embeds everything each turn).
    private func toolLoop(
        model: LanguageModel, prompt: SlottedPrompt, cache: KVCache, logits first: [Float], parameters: GenerationParameters,
        options: ToolLoopOptions, tools: any ToolExecutor, node: String, round: Int, onText: (String) -> Bool,
        events: (RunEvent) -> Void
    ) -> (String, Int, [ToolCallRecord]) {
        let promptCount = cache.count, promptTokens = prompt.tokens.compactMap { $0 }
        var logits = first
        let loop = ToolLoop(options: options, tools: tools, budget: parameters.maxTokens)
        return loop.run(turn: { text, budget, stops in
            if !text.isEmpty {
                cache.trim(to: promptCount)
                let ids = model.tokenizer.encode(text, addBOS: false, parseSpecial: false)
                cache.reserve(promptCount + ids.count + budget + 1)
                logits = executor.forward(model.transformer, tokens: ids, cache: cache, outputs: .last, precision: parameters.precision,
                                          threads: parameters.threads).logits
            }
            var turn = parameters
            turn.maxTokens = budget
            turn.stopStrings += stops
            let history = promptTokens + model.tokenizer.encode(text, addBOS: false, parseSpecial: false)
            let result = Generator(model: model, executor: executor).generate(afterLogits: logits, history: history, cache: cache, parameters: turn, onText: onText)
            return (result.text, result.tokens.count, result.stopReason == .stopString ? result.stopString : nil)
        }, emit: { _ = onText($0) }, called: { events(.toolCall(node: node, round: round, call: $0)) })
    }
}
