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
}
