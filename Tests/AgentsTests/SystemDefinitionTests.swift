import Foundation
import Agents
import Models
import TestSupport
import Testing
import Training
import Links

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

    @Test("links trained with another model file are named; a relative GGUF path resolves against the file")
    func provenance() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-prov-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(TinyModel(.qwen2).serialized()).write(to: folder.appendingPathComponent("tiny.gguf"))
        func save(_ name: String, kind: String, roles: [String]) throws {
            let store = CheckpointStore(directory: folder.appendingPathComponent(name))
            try FileManager.default.createDirectory(at: store.directory, withIntermediateDirectories: true)
            let models = roles.map { CheckpointManifest.Model(role: $0, name: "tiny.gguf", sha256: "aaaa") }
            let manifest = CheckpointManifest(kind: kind, step: 1, links: [.init(name: "inner", kind: "ln_res_adapter", inputWidth: 64, outputWidth: 64)],
                                              models: models)
            try store.save(manifest, parameters: InnerLink(width: 64, prefix: "inner.", seed: 1).parameters, optimizer: nil)
        }
        try save("planner-inner", kind: "inner", roles: ["planner"])
        try save("outer", kind: "outer", roles: ["planner", "refiner", "solver"])
        let url = folder.appendingPathComponent("system.json")
        try Data("""
            {"agents": [{"role": "planner", "model": "tiny.gguf", "inner_link": "planner-inner"},
                        {"role": "refiner", "model": "tiny.gguf"}, {"role": "solver", "model": "tiny.gguf"}],
             "links": [{"from": "planner", "to": "refiner", "checkpoint": "outer"}, {"from": "refiner", "to": "solver"},
                       {"from": "solver", "to": "planner"}]}
            """.utf8).write(to: url)
        let definition = try SystemDefinition.load(url)
        #expect(SystemDefinition.modelSpec("tiny.gguf", relativeTo: folder) == folder.appendingPathComponent("tiny.gguf").path)
        #expect(SystemDefinition.modelSpec("qwen2.5-0.5b", relativeTo: folder) == "qwen2.5-0.5b")
        #expect(try definition.provenanceMismatches(relativeTo: folder, digest: { _ in "aaaa" }).isEmpty)
        let refinerSwapped = try definition.provenanceMismatches(relativeTo: folder, digest: { $0 == .refiner ? "bbbb" : "aaaa" })
        #expect(refinerSwapped.count == 1 && refinerSwapped[0].contains("planner → refiner") && refinerSwapped[0].contains("as the refiner"))
        let plannerSwapped = try definition.provenanceMismatches(relativeTo: folder, digest: { $0 == .planner ? "bbbb" : "aaaa" })
        #expect(plannerSwapped.count == 2, "the planner's inner link and the planner → refiner link")
    }
}
