import Foundation
import Agents
import Models
import TestSupport
import Testing

@Suite("System definition file")
struct SystemDefinitionTests {
    static func write(_ json: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-system-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: url)
        return url
    }

    static let links = """
        [{"from": "planner", "to": "refiner"}, {"from": "refiner", "to": "solver"}, {"from": "solver", "to": "planner"}]
        """

    @Test("a complete definition loads and instantiates heterogeneous agents")
    func loads() throws {
        let wide = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-def-\(UUID().uuidString).gguf")
        try Data(TinyModel(.qwen2).serialized()).write(to: wide)
        let url = try Self.write("""
            {"agents": [{"role": "planner", "model": "\(wide.path)"}, {"role": "refiner", "model": "\(wide.path)"},
                        {"role": "solver", "model": "\(wide.path)"}],
             "links": \(Self.links), "defaults": {"rounds": 3, "latent_steps": 8, "max_tokens": 4}}
            """)
        let definition = try SystemDefinition.load(url)
        #expect(definition.defaults.rounds == 3 && definition.defaults.latentSteps == 8)
        let system = try definition.instantiate(relativeTo: url.deletingLastPathComponent(), resolveModel: { $0 })
        #expect(system.planner.model === system.solver.model)
        let result = try system.run(question: "1 + 1?", rounds: 1, latentSteps: 2, generation: .init(maxTokens: 2))
        #expect(result.stages.count == 3)
    }

    @Test("missing roles, missing links and unknown styles are errors")
    func rejects() throws {
        let agents = #"[{"role": "planner", "model": "m"}, {"role": "refiner", "model": "m"}, {"role": "solver", "model": "m"}]"#
        for bad in [
            #"{"agents": [{"role": "planner", "model": "m"}], "links": \#(Self.links)}"#,
            #"{"agents": \#(agents), "links": [{"from": "planner", "to": "refiner"}]}"#,
            #"{"style": "mixture", "agents": \#(agents), "links": \#(Self.links)}"#,
            #"{"agents": \#(agents), "links": \#(Self.links)"#,
        ] {
            #expect(throws: AgentError.self) { try SystemDefinition.load(try Self.write(bad)) }
        }
    }
}
