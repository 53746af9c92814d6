// Provenance: RecursiveMAS sequential-style inference (spec §3.4, reference `ours_recursive`):
// per round, planner latent rollout (feedback slot from round 2) → outer_12 → refiner rollout →
// outer_23 → (non-final rounds) solver rollout → outer_31 feedback; only the final round's solver
// decodes text. Latents passed on are inner(h) of the rollout, mapped by the outer link.
import Foundation
import Kernels
import Links
import Models
import RoleData
import Tokenization

/// One agent: a frozen model, its role and its inner link.
public struct SequentialAgent: Sendable {
    public let model: LanguageModel
    public let role: AgentRole
    public let inner: InnerLink

    public init(model: LanguageModel, role: AgentRole, inner: InnerLink) {
        self.model = model
        self.role = role
        self.inner = inner
    }
}

/// Token and time accounting of one stage (one agent in one round).
public struct StageRecord: Sendable, Codable, Equatable {
    public var round: Int
    public var role: AgentRole
    public var promptTokens: Int
    public var latentInputs: Int
    public var latentSteps: Int
    public var generatedTokens: Int
    public var seconds: Double
    /// The text the stage decoded (nil for a latent rollout): with the text method, what each
    /// agent passed on.
    public var text: String?

    public init(round: Int, role: AgentRole, promptTokens: Int, latentInputs: Int, latentSteps: Int, generatedTokens: Int,
                seconds: Double, text: String? = nil) {
        self.round = round
        self.role = role
        self.promptTokens = promptTokens
        self.latentInputs = latentInputs
        self.latentSteps = latentSteps
        self.generatedTokens = generatedTokens
        self.seconds = seconds
        self.text = text
    }
}

/// The answer of a recursive run, with per-stage accounting.
public struct SystemRunResult: Sendable {
    public var text: String
    /// With several samples (pass@k): samples 2 … k of the final decode (``text`` is sample 1).
    public var alternatives: [String] = []
    public var stages: [StageRecord]
    public var generatedTokens: Int { stages.reduce(0) { $0 + $1.generatedTokens } }
    public var latentSteps: Int { stages.reduce(0) { $0 + $1.latentSteps } }
    public var promptTokens: Int { stages.reduce(0) { $0 + $1.promptTokens } }
}

/// Planner → refiner (critic) → solver, with solver → planner feedback across rounds.
public struct SequentialSystem: Sendable {
    public let planner: SequentialAgent
    public let refiner: SequentialAgent
    public let solver: SequentialAgent
    /// planner → refiner, refiner → solver, solver → planner.
    public let plannerToRefiner: OuterLink
    public let refinerToSolver: OuterLink
    public let solverToPlanner: OuterLink
    public let templates: PromptTemplates

    public init(planner: SequentialAgent, refiner: SequentialAgent, solver: SequentialAgent, plannerToRefiner: OuterLink,
                refinerToSolver: OuterLink, solverToPlanner: OuterLink, templates: PromptTemplates = .sequentialMath) throws(AgentError) {
        func check(_ link: OuterLink, _ from: SequentialAgent, _ to: SequentialAgent) throws(AgentError) {
            guard link.inputWidth == from.model.configuration.width, link.outputWidth == to.model.configuration.width else {
                throw .invalidArgument("outer link \(from.role.rawValue) → \(to.role.rawValue) maps \(link.inputWidth) → \(link.outputWidth), the models are \(from.model.configuration.width) and \(to.model.configuration.width) wide")
            }
        }
        try check(plannerToRefiner, planner, refiner)
        try check(refinerToSolver, refiner, solver)
        try check(solverToPlanner, solver, planner)
        let names = [plannerToRefiner, refinerToSolver, solverToPlanner].flatMap { $0.parameters.map(\.name) }
        guard Set(names).count == names.count else {
            throw .invalidArgument("the outer links' parameter names collide; give each link its own prefix (e.g. \"planner_to_refiner.\")")
        }
        self.planner = planner
        self.refiner = refiner
        self.solver = solver
        self.plannerToRefiner = plannerToRefiner
        self.refinerToSolver = refinerToSolver
        self.solverToPlanner = solverToPlanner
        self.templates = templates
    }

    /// Runs `rounds` rounds of `latentSteps` latent steps per agent and returns the final
    /// solver's text. With `samples` k > 1 (pass@k) the latents are computed once and only the
    /// final decode is repeated, with sampling seeds seed, seed + 1, …; each decode is a stage.
    public func run(question: String, rounds: Int, latentSteps m: Int, generation: GenerationParameters,
                    samples: Int = 1) throws(AgentError) -> SystemRunResult {
        guard rounds >= 1 else { throw .invalidArgument("rounds must be at least 1") }
        return try latentRounds(question: question, answeringAfter: [rounds], latentSteps: m, generation: generation,
                                samples: samples)[rounds]!
    }

    /// The latent loop for max(`answeringAfter`) rounds. A run of r rounds is a prefix of a run of
    /// r + 1: the round-r solver prompt is the same whether it decodes (r final) or rolls out
    /// (r < final). So the solver also decodes after each round in `answeringAfter`, from a cache
    /// of its own, and each answer carries exactly the stages a run of that many rounds records.
    func latentRounds(question: String, answeringAfter: Set<Int>, latentSteps m: Int, generation: GenerationParameters,
                      samples: Int) throws(AgentError) -> [Int: SystemRunResult] {
        let rounds = answeringAfter.max() ?? 0
        guard answeringAfter.allSatisfy({ $0 >= 1 }), !answeringAfter.isEmpty, m >= 1, samples >= 1 else {
            throw .invalidArgument("rounds, latent steps and samples must be at least 1")
        }
        var stages: [StageRecord] = []
        var feedback: [Float]?
        var results: [Int: SystemRunResult] = [:]
        for round in 1...rounds {
            let plannerLatents = feedback.map { [LatentSlot.feedback: $0] } ?? [:]
            let plan = try rollout(planner, round: round, question: question, latents: plannerLatents, steps: m, stages: &stages)
            let toRefiner = plannerToRefiner(plan, rows: m)
            let refined = try rollout(refiner, round: round, question: question, latents: [.planner: toRefiner], steps: m, stages: &stages)
            let toSolver = refinerToSolver(refined, rows: m)
            if answeringAfter.contains(round) {
                let prompt = try slottedPrompt(solver, round: round, question: question, latents: [.refined: toSolver])
                var answered = stages, texts: [String] = []
                for k in 0..<samples {
                    var parameters = generation
                    parameters.sampling.seed = generation.sampling.seed &+ UInt64(k)
                    let (text, record) = decode(solver, round: round, prompt: prompt, generation: parameters)
                    texts.append(text)
                    answered.append(record)
                }
                results[round] = SystemRunResult(text: texts[0], alternatives: Array(texts.dropFirst()), stages: answered)
            }
            if round < rounds {
                let solved = try rollout(solver, round: round, question: question, latents: [.refined: toSolver], steps: m, stages: &stages)
                feedback = solverToPlanner(solved, rows: m)
            }
        }
        return results
    }

    /// Decodes `agent`'s reply to `prompt` (sampling per `generation`, the model's stop strings
    /// added) and accounts for it as one stage.
    func decode(_ agent: SequentialAgent, round: Int, prompt: SlottedPrompt, generation: GenerationParameters) -> (String, StageRecord) {
        let clock = ContinuousClock(), start = clock.now
        let model = agent.model
        let cache = KVCache(configuration: model.configuration, capacity: prompt.count + generation.maxTokens + 1)
        let logits = prompt.embeddings.withUnsafeBufferPointer {
            model.transformer.forward(embeddings: $0.baseAddress!, count: prompt.count, cache: cache, threads: generation.threads).logits
        }
        var parameters = generation
        parameters.stopStrings += model.chatTemplate?.stopStrings ?? []
        let result = Generator(model: model).generate(afterLogits: logits, history: prompt.tokens.compactMap { $0 }, cache: cache,
                                                      parameters: parameters)
        return (result.text, StageRecord(round: round, role: agent.role, promptTokens: prompt.count - prompt.latentCount,
                                         latentInputs: prompt.latentCount, latentSteps: 0, generatedTokens: result.tokens.count,
                                         seconds: (clock.now - start).seconds, text: result.text))
    }

    func slottedPrompt(_ agent: SequentialAgent, round: Int, question: String, latents: [LatentSlot: [Float]]) throws(AgentError) -> SlottedPrompt {
        let user = templates.render(role: agent.role, question: question, round: round)
        return try SlottedPrompt(model: agent.model, messages: [.system(templates.system), .init(role: .user, content: user)],
                                 latents: latents)
    }

    /// The agent's m latent thoughts, inner(h₀ … h_{m−1}) `[m × D]`, for its prompt with `latents` spliced in.
    private func rollout(
        _ agent: SequentialAgent, round: Int, question: String, latents: [LatentSlot: [Float]], steps m: Int, stages: inout [StageRecord]
    ) throws(AgentError) -> [Float] {
        let clock = ContinuousClock(), start = clock.now
        let prompt = try slottedPrompt(agent, round: round, question: question, latents: latents)
        let transformer = agent.model.transformer
        let cache = KVCache(configuration: transformer.configuration, capacity: prompt.count + m)
        let result = prompt.embeddings.withUnsafeBufferPointer {
            transformer.latentRollout(prompt: $0.baseAddress!, count: prompt.count, steps: m, cache: cache, link: agent.inner.hiddenToEmbedding)
        }
        stages.append(StageRecord(round: round, role: agent.role, promptTokens: prompt.count - prompt.latentCount,
                                  latentInputs: prompt.latentCount, latentSteps: m, generatedTokens: 0, seconds: (clock.now - start).seconds))
        return result.embeddings
    }
}
