import Foundation
import Agents
import Links
import Models
import RoleData
import TestSupport
import Testing

@Suite("Sequential recursive system (tiny models)")
struct SequentialSystemTests {
    /// Planner and solver share one 64-wide qwen2 file (one mapping); the critic is a 32-wide llama.
    static func system() throws -> SequentialSystem {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-system-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let wide = directory.appendingPathComponent("wide.gguf"), narrow = directory.appendingPathComponent("narrow.gguf")
        try Data(TinyModel(.qwen2).serialized()).write(to: wide)
        var critic = TinyModel(.llama)
        critic.width = 32
        critic.headDim = 8
        critic.ffn = 48
        try Data(critic.serialized()).write(to: narrow)
        let big = try LanguageModel.load(path: wide.path), small = try LanguageModel.load(path: narrow.path)
        #expect(try LanguageModel.load(path: wide.path) === big)
        return try SequentialSystem(
            planner: .init(model: big, role: .planner, inner: InnerLink(width: 64, seed: 1)),
            refiner: .init(model: small, role: .refiner, inner: InnerLink(width: 32, seed: 2)),
            solver: .init(model: big, role: .solver, inner: InnerLink(width: 64, seed: 3)),
            plannerToRefiner: OuterLink(inputWidth: 64, outputWidth: 32, prefix: "planner_to_refiner.", seed: 4),
            refinerToSolver: OuterLink(inputWidth: 32, outputWidth: 64, prefix: "refiner_to_solver.", seed: 5),
            solverToPlanner: OuterLink(inputWidth: 64, outputWidth: 64, prefix: "solver_to_planner.", seed: 6))
    }

    @Test("stages, latent accounting and determinism over 1–3 rounds", arguments: [1, 2, 3])
    func rounds(_ rounds: Int) throws {
        let system = try Self.system()
        let m = 4
        let parameters = GenerationParameters(maxTokens: 5)
        let a = try system.run(question: "What is 2 + 3?", rounds: rounds, latentSteps: m, generation: parameters)
        let b = try system.run(question: "What is 2 + 3?", rounds: rounds, latentSteps: m, generation: parameters)
        #expect(a.text == b.text)
        #expect(a.stages.map(\.role) == Array(repeating: [AgentRole.planner, .refiner, .solver], count: rounds).flatMap { $0 })
        #expect(a.latentSteps == (3 * rounds - 1) * m)
        #expect(a.stages.first?.latentInputs == 0)
        #expect(a.stages.dropFirst().allSatisfy { $0.latentInputs == m }, "every later stage receives m latent rows")
        #expect(a.stages.last?.latentSteps == 0 && a.generatedTokens <= 5)
        #expect(a.stages.dropLast().allSatisfy { $0.text == nil } && a.stages.last?.text == a.text, "rollouts decode no text")
    }

    @Test("an outer link of the wrong width is rejected")
    func widthMismatch() throws {
        let s = try Self.system()
        #expect(throws: AgentError.self) {
            try SequentialSystem(planner: s.planner, refiner: s.refiner, solver: s.solver,
                                 plannerToRefiner: OuterLink(inputWidth: 64, outputWidth: 64, prefix: "planner_to_refiner.", seed: 1),
                                 refinerToSolver: s.refinerToSolver, solverToPlanner: s.solverToPlanner)
        }
    }

    @Test("outer links whose parameter names collide are rejected (they would share optimizer state)")
    func nameCollision() throws {
        let s = try Self.system()
        #expect(throws: AgentError.self) {
            try SequentialSystem(planner: s.planner, refiner: s.refiner, solver: s.solver,
                                 plannerToRefiner: OuterLink(inputWidth: 64, outputWidth: 32, prefix: "x.", seed: 1),
                                 refinerToSolver: OuterLink(inputWidth: 32, outputWidth: 64, prefix: "y.", seed: 2),
                                 solverToPlanner: OuterLink(inputWidth: 64, outputWidth: 64, prefix: "x.", seed: 3))
        }
    }

    @Test("Recursive-TextMAS: every agent decodes text into the next agent's slot, no latents", arguments: [1, 2])
    func textMethod(_ rounds: Int) throws {
        let system = try Self.system()
        let parameters = GenerationParameters(maxTokens: 6)
        let a = try system.run(question: "What is 2 + 3?", method: .text, rounds: rounds, latentSteps: 4, generation: parameters)
        let b = try system.run(question: "What is 2 + 3?", method: .text, rounds: rounds, latentSteps: 4, generation: parameters)
        #expect(a.text == b.text && a.stages.map(\.generatedTokens) == b.stages.map(\.generatedTokens))
        #expect(a.stages.map(\.role) == Array(repeating: [AgentRole.planner, .refiner, .solver], count: rounds).flatMap { $0 })
        #expect(a.stages.allSatisfy { $0.latentSteps == 0 && $0.latentInputs == 0 && $0.generatedTokens > 0 })
        #expect(a.stages.allSatisfy { $0.text != nil } && a.stages.last?.text == a.text, "each agent's message is kept")
        // The refiner's prompt holds the planner's text: longer than with an empty slot.
        let empty = try SlottedPrompt(
            model: system.refiner.model,
            messages: [.system(system.templates.system),
                       .init(role: .user, content: system.templates.render(role: .refiner, question: "What is 2 + 3?", slotText: ""))],
            latents: [:])
        #expect(a.stages[1].promptTokens > empty.count)
    }

    @Test("single agent: one solver stage with the single-agent prompt")
    func singleMethod() throws {
        let system = try Self.system()
        let r = try system.run(question: "What is 2 + 3?", method: .single, rounds: 3, latentSteps: 4,
                               generation: GenerationParameters(maxTokens: 6))
        #expect(r.stages.count == 1 && r.stages[0].role == .solver && r.stages[0].latentSteps == 0 && r.latentSteps == 0)
    }

    @Test("answer retry continues an answer-less text with the boxed prefix and counts its tokens")
    func answerRetry() throws {
        let system = try Self.system()
        let parameters = GenerationParameters(maxTokens: 6)
        let plain = try system.run(question: "What is 2 + 3?", method: .latent, rounds: 1, latentSteps: 2, generation: parameters)
        #expect(AnswerExtractor.extract(from: plain.text) == nil, "a random tiny model gives no boxed answer")
        let retried = try system.run(question: "What is 2 + 3?", method: .latent, rounds: 1, latentSteps: 2, generation: parameters,
                                     answerRetry: true)
        #expect(retried.text.hasPrefix(plain.text + "\nFinal Answer: \\boxed{"))
        let extra = retried.generatedTokens - plain.generatedTokens
        #expect(extra >= 0 && extra <= 16)
        #expect(retried.stages.count == plain.stages.count && retried.promptTokens > plain.promptTokens)
    }

    @Test("pass@k: latents once, k final decodes with seeds seed…seed+k−1, each its own stage")
    func passAtK() throws {
        let system = try Self.system()
        var parameters = GenerationParameters(maxTokens: 6)
        parameters.sampling = SamplingParameters(temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: 10)
        let r = try system.run(question: "What is 2 + 3?", rounds: 2, latentSteps: 3, generation: parameters, samples: 4)
        #expect(r.alternatives.count == 3)
        #expect(r.stages.count == 5 + 4 && r.stages.suffix(4).allSatisfy { $0.role == .solver && $0.round == 2 })
        #expect(r.latentSteps == 5 * 3, "latent stages run once")
        // Sample k equals a single run seeded seed + k.
        var third = parameters
        third.sampling.seed = 12
        let single = try system.run(question: "What is 2 + 3?", rounds: 2, latentSteps: 3, generation: third)
        #expect(single.text == r.alternatives[1])
        #expect(Set([r.text] + r.alternatives).count > 1, "hot sampling over a random tiny model differs between seeds")
    }

    @Test("one pass over rounds answers each round count exactly as a run of that many rounds", arguments: [InferenceMethod.latent, .text])
    func roundSweep(_ method: InferenceMethod) throws {
        let system = try Self.system()
        let parameters = GenerationParameters(maxTokens: 5)
        let swept = try system.run(question: "What is 7 − 4?", method: method, roundCounts: [1, 3], latentSteps: 3,
                                   generation: parameters, answerRetry: true)
        #expect(Set(swept.keys) == [1, 3])
        for rounds in [1, 3] {
            let alone = try system.run(question: "What is 7 − 4?", method: method, rounds: rounds, latentSteps: 3,
                                       generation: parameters, answerRetry: true)
            let answer = try #require(swept[rounds])
            #expect(answer.text == alone.text)
            func untimed(_ stages: [StageRecord]) -> [StageRecord] { stages.map { var s = $0; s.seconds = 0; return s } }
            #expect(untimed(answer.stages) == untimed(alone.stages), "rounds \(rounds): the same stages in the same order")
        }
        #expect(swept[1]!.stages.count == 3 && swept[3]!.stages.count == 9)
        #expect(throws: AgentError.self) {
            try system.run(question: "x", method: method, roundCounts: [0, 2], latentSteps: 3, generation: parameters)
        }
    }
}
