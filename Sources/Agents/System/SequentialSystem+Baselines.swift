// Provenance: the baselines of spec §5 in the same runner: Recursive-TextMAS (reference
// `text_recursive`: the same agents, prompts and loop, each agent generating text that fills the
// next agent's slot; the round-r ≥ 2 planner gets the previous solver's text as feedback) and the
// final agent alone; plus the answer retry of §3.3, applied to every method alike.
import Models
import RoleData
import Tokenization

extension SequentialSystem {
    /// Answers `question` with `method`: `.latent` (RecursiveMAS), `.text` (Recursive-TextMAS;
    /// one round is the plain text MAS) or `.single` (the solver alone; `rounds` and
    /// `latentSteps` are ignored). With `answerRetry`, a final text without a parsable answer
    /// gets the short "Final Answer: \boxed{" continuation of spec §3.3.
    ///
    /// `samples` > 1 (pass@k, latent method only) repeats only the final decode.
    public func run(
        question: String, method: InferenceMethod, rounds: Int, latentSteps: Int, generation: GenerationParameters,
        answerRetry: Bool = false, samples: Int = 1
    ) throws(AgentError) -> SystemRunResult {
        guard samples == 1 || method == .latent else { throw .invalidArgument("several samples are supported by the latent method only") }
        var result: SystemRunResult
        switch method {
        case .latent:
            result = try run(question: question, rounds: rounds, latentSteps: latentSteps, generation: generation, samples: samples)
        case .text: result = try runText(question: question, rounds: rounds, generation: generation)
        case .single: result = try runSingle(question: question, generation: generation)
        }
        if answerRetry { retryAnswer(&result, generation: generation) }
        return result
    }

    /// Answers `question` with `method` once for each round count in `roundCounts`, in one pass of
    /// max(`roundCounts`) rounds: a run of r rounds is a prefix of a run of r + 1 (same prompts,
    /// same computation), so the answer after round r is what `run(…, rounds: r, …)` returns, with
    /// the same stages. `.single` ignores rounds and answers once for each count.
    public func run(
        question: String, method: InferenceMethod, roundCounts: Set<Int>, latentSteps: Int, generation: GenerationParameters,
        answerRetry: Bool = false
    ) throws(AgentError) -> [Int: SystemRunResult] {
        guard !roundCounts.isEmpty, roundCounts.allSatisfy({ $0 >= 1 }) else { throw .invalidArgument("round counts must be at least 1") }
        var results: [Int: SystemRunResult]
        switch method {
        case .latent:
            results = try latentRounds(question: question, answeringAfter: roundCounts, latentSteps: latentSteps,
                                       generation: generation, samples: 1)
        case .text: results = try textRounds(question: question, answeringAfter: roundCounts, generation: generation)
        case .single:
            let answer = try runSingle(question: question, generation: generation)
            results = Dictionary(uniqueKeysWithValues: roundCounts.map { ($0, answer) })
        }
        if answerRetry {
            for r in results.keys { retryAnswer(&results[r]!, generation: generation) }
        }
        return results
    }

    /// Recursive-TextMAS: every agent decodes text (same sampling and token budget), which
    /// replaces the slot marker of the next agent's prompt.
    public func runText(question: String, rounds: Int, generation: GenerationParameters) throws(AgentError) -> SystemRunResult {
        guard rounds >= 1 else { throw .invalidArgument("rounds must be at least 1") }
        return try textRounds(question: question, answeringAfter: [rounds], generation: generation)[rounds]!
    }

    /// The text loop for max(`answeringAfter`) rounds; the solver's text after each round in
    /// `answeringAfter`, with the stages up to it.
    func textRounds(question: String, answeringAfter: Set<Int>, generation: GenerationParameters) throws(AgentError) -> [Int: SystemRunResult] {
        guard let rounds = answeringAfter.max(), answeringAfter.allSatisfy({ $0 >= 1 }) else {
            throw .invalidArgument("rounds must be at least 1")
        }
        var stages: [StageRecord] = [], feedback: String?
        var results: [Int: SystemRunResult] = [:]
        for round in 1...rounds {
            let plan = try speak(planner, round: round, question: question, slotText: feedback, generation: generation, stages: &stages)
            let refined = try speak(refiner, round: round, question: question, slotText: plan, generation: generation, stages: &stages)
            let answer = try speak(solver, round: round, question: question, slotText: refined, generation: generation, stages: &stages)
            if answeringAfter.contains(round) { results[round] = SystemRunResult(text: answer, stages: stages) }
            feedback = answer
        }
        return results
    }

    /// The solver's model alone, with the single-agent prompt.
    public func runSingle(question: String, generation: GenerationParameters) throws(AgentError) -> SystemRunResult {
        let user = templates.renderSingleAgent(question: question)
        let prompt = try SlottedPrompt(model: solver.model, messages: [.system(templates.system), .init(role: .user, content: user)],
                                       latents: [:])
        let (text, record) = decode(solver, round: 1, prompt: prompt, generation: generation)
        return SystemRunResult(text: text, stages: [record])
    }

    private func speak(
        _ agent: SequentialAgent, round: Int, question: String, slotText: String?, generation: GenerationParameters,
        stages: inout [StageRecord]
    ) throws(AgentError) -> String {
        let user = templates.render(role: agent.role, question: question, round: round, slotText: slotText ?? "")
        let prompt = try SlottedPrompt(model: agent.model, messages: [.system(templates.system), .init(role: .user, content: user)],
                                       latents: [:])
        let (text, record) = decode(agent, round: round, prompt: prompt, generation: generation)
        stages.append(record)
        return text
    }

    /// Spec §3.3: when the final text has no parsable answer, the final agent's model continues
    /// `text + "\nFinal Answer: \boxed{"` as a plain LM (no chat format, no question) for 16
    /// tokens; the result is the whole continued string. Its tokens count in the last stage.
    func retryAnswer(_ result: inout SystemRunResult, generation: GenerationParameters) {
        guard AnswerExtractor.extract(from: result.text) == nil, var last = result.stages.popLast() else { return }
        let clock = ContinuousClock(), start = clock.now
        let prefix = result.text + "\nFinal Answer: \\boxed{"
        let model = solver.model
        let tokens = model.tokenizer.encode(prefix, addBOS: model.tokenizer.addBOSByDefault, parseSpecial: false)
        var parameters = generation
        parameters.maxTokens = 16
        let cache = KVCache(configuration: model.configuration, capacity: tokens.count + parameters.maxTokens + 1)
        let continuation = Generator(model: model).generate(prompt: tokens, cache: cache, parameters: parameters)
        result.text = prefix + continuation.text
        last.promptTokens += tokens.count
        last.generatedTokens += continuation.tokens.count
        last.seconds += (clock.now - start).seconds
        last.text = result.text
        result.stages.append(last)
    }
}
