import Foundation
import Kernels
@testable import Agents
import Links
import Models
import RoleData
import TestSupport

/// Agent graphs over tiny random-weight models written by the tests.
enum TinyGraph {
    /// Writes wide.gguf (a 64-wide qwen2) and narrow.gguf (a 32-wide llama) into `directory`.
    @discardableResult
    static func writeModels(in directory: URL, weightType: GGMLType = .f32) throws -> (wide: URL, narrow: URL) {
        let wide = directory.appendingPathComponent("wide.gguf"), narrow = directory.appendingPathComponent("narrow.gguf")
        var planner = TinyModel(.qwen2)
        planner.weightType = weightType
        try Data(planner.serialized()).write(to: wide)
        var critic = TinyModel(.llama)
        critic.weightType = weightType
        critic.width = 32
        critic.headDim = 8
        critic.ffn = weightType == .f32 ? 48 : 64  // quantized rows are whole 32-element blocks
        try Data(critic.serialized()).write(to: narrow)
        return (wide, narrow)
    }

    /// The two models of ``writeModels(in:)``, written into a fresh folder and loaded.
    static func models(weightType: GGMLType = .f32) throws -> (wide: LanguageModel, narrow: LanguageModel, folder: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-graph-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (wide, narrow) = try writeModels(in: directory, weightType: weightType)
        return (try LanguageModel.load(path: wide.path), try LanguageModel.load(path: narrow.path), directory)
    }

    /// The sequential graph (built-in wording) over tiny models, with the links the pre-graph
    /// tests used: planner and solver share the 64-wide qwen2 file; the critic is the 32-wide
    /// llama; inner links seeds 1–3, outer links seeds 4–6.
    static func sequential(rounds: Int = 1, weightType: GGMLType = .f32) throws -> AgentGraph {
        let (big, small, _) = try models(weightType: weightType)
        let definition = GraphDefinition.sequential(rounds: rounds)
        return try AgentGraph(
            definition: definition,
            nodes: [
                .init(id: "planner", model: big, inner: InnerLink(width: 64, seed: 1), prompts: definition.nodes[0].prompts, target: "plan"),
                .init(id: "refiner", model: small, inner: InnerLink(width: 32, seed: 2), prompts: definition.nodes[1].prompts,
                      target: "refined_plan"),
                .init(id: "solver", model: big, inner: InnerLink(width: 64, seed: 3), prompts: definition.nodes[2].prompts, target: "answer"),
            ],
            links: [
                OuterLink(inputWidth: 64, outputWidth: 32, prefix: "planner_to_refiner.", seed: 4),
                OuterLink(inputWidth: 32, outputWidth: 64, prefix: "refiner_to_solver.", seed: 5),
                OuterLink(inputWidth: 64, outputWidth: 64, prefix: "solver_to_planner.", seed: 6),
            ])
    }
}
