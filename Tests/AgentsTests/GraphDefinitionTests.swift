import Foundation
import Agents
import Models
import TestSupport
import Testing
import Training
import Links
import RoleData

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
             "links": \(Self.links), "defaults": {"rounds": 3, "latent_steps": 8, "max_tokens": 4, "max_latent_tokens": 5}}
            """)
        let definition = try SystemDefinition.load(url)
        #expect(definition.defaults.rounds == 3 && definition.defaults.latentSteps == 8)
        #expect(definition.defaults.maxTokens == 4 && definition.defaults.maxLatentTokens == 5)
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
            #"{"agents": \#(agents), "links": \#(Self.links), "defaults": {"max_latent_tokens": 0}}"#,
            #"{"agents": \#(agents), "links": \#(Self.links), "defaults": {"rounds": 0}}"#,
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

    @Test("a prompts block replaces the named templates, keeps the others, and survives re-encoding")
    func prompts() throws {
        let tiny = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-prompts-\(UUID().uuidString).gguf")
        try Data(TinyModel(.qwen2).serialized()).write(to: tiny)
        let url = try Self.write(#"""
            {"agents": [{"role": "planner", "model": "\#(tiny.path)"}, {"role": "refiner", "model": "\#(tiny.path)"},
                        {"role": "solver", "model": "\#(tiny.path)"}],
             "links": \#(Self.links),
             "prompts": {"system": "Be brief.", "solver_instruction": "Think step by step; answer in \\boxed{}."}}
            """#)
        let definition = try SystemDefinition.load(url)
        let templates = definition.templates
        #expect(templates.system == "Be brief.")
        #expect(templates.solverInstruction == #"Think step by step; answer in \boxed{}."#)
        let builtIn = PromptTemplates.sequentialMath
        #expect(templates.solver == builtIn.solver && templates.refiner == builtIn.refiner
                && templates.plannerFirstRound == builtIn.plannerFirstRound && templates.singleAgent == builtIn.singleAgent)
        #expect(templates.render(role: .solver, question: "1 + 1?").hasSuffix("Think step by step; answer in \\boxed{}."))
        #expect(templates.renderSingleAgent(question: "1 + 1?").contains("Think step by step"))
        let system = try definition.instantiate(relativeTo: url.deletingLastPathComponent(), resolveModel: { $0 })
        #expect(system.templates == templates)
        // Re-encoded (as `train outer` writes its system.json) and read back: the same definition.
        let again = try JSONDecoder().decode(SystemDefinition.self, from: try JSONEncoder().encode(definition))
        #expect(again == definition)
        // Without a block, everything is built in.
        let plain = try SystemDefinition.load(try Self.write(#"{"agents": [{"role": "planner", "model": "m"}, {"role": "refiner", "model": "m"}, {"role": "solver", "model": "m"}], "links": \#(Self.links)}"#))
        #expect(plain.prompts == nil && plain.templates == builtIn)
    }

    @Test("unknown prompt keys, templates without their slot and non-text prompts are errors that say which")
    func badPrompts() throws {
        let head = #"{"agents": [{"role": "planner", "model": "m"}, {"role": "refiner", "model": "m"}, {"role": "solver", "model": "m"}], "links": \#(Self.links), "prompts": "#
        for (prompts, needle) in [
            (#"{"solver_instructions": "x"}"#, "unknown prompt \"solver_instructions\""),
            (#"{"refiner": "Check the plan for {question}."}"#, "prompt \"refiner\" lacks {slot}"),
            (#"{"solver": "{slot} {question}"}"#, "prompt \"solver\" lacks {instruction}"),
            (#"{"planner_later_rounds": "Plan {question}."}"#, "prompt \"planner_later_rounds\" lacks {slot}"),
            (#"{"system": 3}"#, "not a valid system definition"),
        ] {
            let url = try Self.write(head + prompts + "}")
            do {
                _ = try SystemDefinition.load(url)
                Issue.record("accepted \(prompts)")
            } catch {
                #expect("\(error)".contains(needle), "\(error)")
            }
        }
    }
}
