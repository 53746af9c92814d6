import Foundation
@testable import Agents
import Links
import ModelFetch
import Models
import RoleData
import TestSupport
import Testing
import Training

@Suite("System files: agent graphs and the earlier sequential format")
struct GraphDefinitionTests {
    static func write(_ json: String, in folder: URL? = nil) throws -> URL {
        let folder = folder ?? FileManager.default.temporaryDirectory
        let url = folder.appendingPathComponent("rmas-system-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: url)
        return url
    }

    static let legacyLinks = """
        [{"from": "planner", "to": "refiner"}, {"from": "refiner", "to": "solver"}, {"from": "solver", "to": "planner"}]
        """

    /// A valid two-node graph; `edit` changes its JSON object before it is written.
    static func graph(_ edit: ([String: Any]) -> [String: Any] = { $0 }) throws -> URL {
        var object: [String: Any] = [
            "style": "custom",
            "nodes": [
                ["id": "a", "model": "m", "target": "plan", "prompts": ["first_round": "Plan {question}",
                                                                         "later_rounds": "Plan {question} again, given {slot:back}"]],
                ["id": "b", "model": "m", "target": "answer", "prompts": ["first_round": "Use {slot:plan} for {question}. {instruction}"]],
            ],
            "edges": [["from": "a", "to": "b", "slot": "plan"], ["from": "b", "to": "a", "slot": "back", "direction": "feedback"]],
            "schedule": ["order": ["a", "b"], "answer": "b", "rounds": 2],
        ]
        object = edit(object)
        return try write(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    }

    static func nodes(_ object: [String: Any]) -> [[String: Any]] { object["nodes"] as! [[String: Any]] }
    static func edges(_ object: [String: Any]) -> [[String: Any]] { object["edges"] as! [[String: Any]] }

    /// The load error's text, nil when the file loads.
    static func loadError(_ url: URL) -> String? {
        do {
            _ = try GraphDefinition.load(url)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("a valid graph loads with its defaults")
    func valid() throws {
        let graph = try GraphDefinition.load(try Self.graph())
        #expect(graph.nodes.map(\.id) == ["a", "b"] && graph.schedule.rounds == 2 && graph.defaults.latentSteps == 16)
        #expect(graph.edges[1].direction == .feedback && graph.edges[0].link == .default)
    }

    @Test("each structural mistake is refused at load with the place named")
    func refusals() throws {
        let cases: [(String, ([String: Any]) -> [String: Any], String)] = [
            ("unfilled slot", { o0 in var o = o0; var n = Self.nodes(o); n[1]["prompts"] = ["first_round": "{slot:plan} {slot:extra}"]; o["nodes"] = n; return o },
             "node 'b': slot 'extra' in its first_round prompt is filled by no edge"),
            ("doubly filled slot", { o0 in var o = o0; var e = Self.edges(o); e.append(["from": "a", "to": "b", "slot": "plan", "link": "outer_linear_adapter"]); o["edges"] = e; return o },
             "declared twice"),
            ("two edges, one slot", { o0 in var o = o0;
                var n = Self.nodes(o); n.append(["id": "c", "model": "m", "prompts": ["first_round": "x"]]); o["nodes"] = n
                var e = Self.edges(o); e.append(["from": "c", "to": "b", "slot": "plan"]); o["edges"] = e
                o["schedule"] = ["order": ["a", "c", "b"], "answer": "b"]; return o
            }, "node 'b': slot 'plan' is filled twice (by 'a' and 'c')"),
            ("unknown node", { o0 in var o = o0; var e = Self.edges(o); e[0]["to"] = "z"; o["edges"] = e; return o }, "edge 'a' → 'z': no node 'z'"),
            ("unknown link kind", { o0 in var o = o0; var e = Self.edges(o); e[0]["link"] = "outer_magic"; o["edges"] = e; return o }, "outer_magic"),
            ("unreachable answer", { o0 in var o = o0;
                var n = Self.nodes(o); n.append(["id": "c", "model": "m", "prompts": ["first_round": "x"]]); o["nodes"] = n
                o["schedule"] = ["order": ["a", "b", "c"], "answer": "b"]; return o
            }, "node 'c': its output never reaches the answering node 'b'"),
            ("cycle without feedback", { o0 in var o = o0; var e = Self.edges(o); e[1]["direction"] = "forward"; o["edges"] = e; return o },
             "cycle with no feedback edge: a → b → a"),
            ("feedback slot in round 1", { o0 in var o = o0; var n = Self.nodes(o); n[0]["prompts"] = ["first_round": "Plan {question} {slot:back}"]; o["nodes"] = n; return o },
             "nothing to deliver in round 1"),
            ("forward edge against the order", { o0 in var o = o0; o["schedule"] = ["order": ["b", "a"], "answer": "b"]; return o }, "acts after"),
            ("answer not a node", { o0 in var o = o0; o["schedule"] = ["order": ["a", "b"], "answer": "q"]; return o }, "answer names no node 'q'"),
            ("rounds 0", { o0 in var o = o0; o["schedule"] = ["order": ["a", "b"], "answer": "b", "rounds": 0]; return o }, "rounds must be at least 1"),
            ("misspelled key", { o0 in var o = o0; o["schedule"] = ["order": ["a", "b"], "answer": "b", "roundz": 2]; return o },
             "unknown key \"roundz\" in schedule (did you mean \"rounds\"?)"),
            ("misspelled node key", { o0 in var o = o0; var n = Self.nodes(o); n[0]["inner_lnk"] = "x"; o["nodes"] = n; return o },
             "unknown key \"inner_lnk\" in nodes[0] (did you mean \"inner_link\"?)"),
            ("search without documents", { o0 in var o = o0; var n = Self.nodes(o); n[1]["decoder"] = ["tool_loop": ["tools": ["search"]]]; o["nodes"] = n; return o },
             "needs \"documents\""),
            ("duplicate id", { o0 in var o = o0; var n = Self.nodes(o); n[1]["id"] = "a"; o["nodes"] = n; return o }, "node 'a': the id is used twice"),
        ]
        for (name, edit, needle) in cases {
            let url = try Self.graph(edit)
            let message = Self.loadError(url)
            #expect(message?.contains(needle) == true, "\(name): \(message ?? "accepted")")
            #expect(message?.hasPrefix(url.path) == true, "\(name): the file is named")
        }
        #expect(throws: GraphError.self) { try GraphDefinition.load(try Self.write("{\"nodes\": [")) }
        #expect(throws: GraphError.self) { try GraphDefinition.load(URL(fileURLWithPath: "/nonexistent/system.json")) }
    }

    @Test("an earlier sequential file loads as the sequential graph with its models, links, prompts and defaults")
    func legacy() throws {
        let url = try Self.write(#"""
            {"agents": [{"role": "planner", "model": "p.gguf", "inner_link": "links/p"}, {"role": "refiner", "model": "r"},
                        {"role": "solver", "model": "s"}],
             "links": \#(Self.legacyLinks), "defaults": {"rounds": 3, "latent_steps": 8, "max_tokens": 4, "max_latent_tokens": 5},
             "prompts": {"system": "Be brief.", "solver_instruction": "Answer in \\boxed{}."}}
            """#)
        let graph = try GraphDefinition.load(url)
        #expect(graph.style == .sequential && graph.nodes.map(\.model) == ["p.gguf", "r", "s"] && graph.nodes[0].innerLink == "links/p")
        #expect(graph.schedule.rounds == 3 && graph.defaults.latentSteps == 8 && graph.defaults.maxLatentTokens == 5)
        #expect(graph.systemPrompt == "Be brief." && graph.instructions.free == #"Answer in \boxed{}."#)
        #expect(graph.nodes[2].prompts == GraphDefinition.sequential().nodes[2].prompts)
        // Re-encoded and read back: the same graph.
        let again = try GraphDefinition.decode(try graph.encoded(), file: "again")
        #expect(again == graph)
        for (bad, needle) in [
            (#"{"agents": [{"role": "planner", "model": "m"}], "links": \#(Self.legacyLinks)}"#, "agents: needs exactly one refiner agent"),
            (#"{"style": "mixture", "agents": [{"role": "planner", "model": "m"}, {"role": "refiner", "model": "m"}, {"role": "solver", "model": "m"}], "links": \#(Self.legacyLinks)}"#,
             "style: 'mixture' is not supported by this format (sequential)"),
            (#"{"agents": [{"role": "planner", "model": "m"}, {"role": "refiner", "model": "m"}, {"role": "solver", "model": "m"}], "links": \#(Self.legacyLinks), "prompts": {"solver_instructions": "x"}}"#,
             "prompts: unknown prompt \"solver_instructions\""),
        ] {
            let url = try Self.write(bad)
            let message = Self.loadError(url)
            #expect(message?.hasPrefix(url.path + ": ") == true && message?.contains(needle) == true, "\(message ?? "accepted")")
        }
    }

    @Test("the built-in sequential graph renders exactly the pre-graph sequential prompts")
    func sequentialWording() throws {
        let graph = GraphDefinition.sequential(), t = PromptTemplates.sequentialMath
        let q = "Tom has 3 apples.\nA. 1\nB. 3"
        #expect(graph.userPrompt(0, question: q, round: 1) == t.render(role: .planner, question: q, round: 1))
        #expect(graph.userPrompt(0, question: q, round: 2) == t.render(role: .planner, question: q, round: 2))
        #expect(graph.userPrompt(1, question: q, round: 1) == t.render(role: .refiner, question: q))
        #expect(graph.userPrompt(2, question: q, round: 3) == t.render(role: .solver, question: q, round: 3))
        #expect(graph.singleUserPrompt(question: q) == t.renderSingleAgent(question: q))
        let row = RoleExample(question: q, plan: "P", refinedPlan: "R", answer: "A")
        for (i, role) in [AgentRole.planner, .refiner, .solver].enumerated() {
            #expect(graph.trainingPair(i, row: DataRow(row)) == t.trainingPair(for: role, example: row))
        }
    }

    @Test("a checkpoint trained with another model file is refused at load, naming the edge")
    func provenance() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-prov-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(TinyModel(.qwen2).serialized()).write(to: folder.appendingPathComponent("tiny.gguf"))
        let digest = try ModelFetch.SHA256.hexDigest(ofFile: folder.appendingPathComponent("tiny.gguf").path)
        func save(_ name: String, sha: String) throws {
            let store = CheckpointStore(directory: folder.appendingPathComponent(name))
            try FileManager.default.createDirectory(at: store.directory, withIntermediateDirectories: true)
            let models = ["a", "b"].map { CheckpointManifest.Model(role: $0, name: "tiny.gguf", sha256: sha) }
            let manifest = CheckpointManifest(kind: "outer", step: 1, links: [.init(name: "a_to_b", kind: "outer_ln_res_adapter", inputWidth: 64, outputWidth: 64)],
                                              models: models)
            try store.save(manifest, parameters: OuterLink(inputWidth: 64, outputWidth: 64, prefix: "a_to_b.", seed: 1).parameters, optimizer: nil)
        }
        try save("good", sha: digest)
        try save("bad", sha: "0000")
        func system(_ checkpoint: String) throws -> URL {
            try Self.write("""
                {"nodes": [{"id": "a", "model": "tiny.gguf", "prompts": {"first_round": "{question}"}},
                           {"id": "b", "model": "tiny.gguf", "prompts": {"first_round": "{slot:x} {question}"}}],
                 "edges": [{"from": "a", "to": "b", "slot": "x", "checkpoint": "\(checkpoint)"}],
                 "schedule": {"order": ["a", "b"], "answer": "b"}}
                """, in: folder)
        }
        let loaded = try LoadedGraph.load(try system("good"), resolveModel: { $0 })
        #expect(loaded.graph.nodes[0].model === loaded.graph.nodes[1].model, "one copy per GGUF")
        #expect(loaded.untrainedLinks == ["a inner", "b inner"])
        #expect {
            try LoadedGraph.load(try system("bad"), resolveModel: { $0 })
        } throws: { error in
            guard case .foreignCheckpoint(_, let place, let detail) = error as? GraphError else { return false }
            return place == "edge 'a' → 'b'" && detail.contains("0000")
        }
        _ = try LoadedGraph.load(try system("bad"), resolveModel: { $0 }, checkProvenance: false)
    }
}


extension GraphDefinitionTests {
    @Test("validation is linear: a 20,000-node chain is checked in seconds, without deep recursion, and a cycle in it is found")
    func longChain() throws {
        let n = 20_000
        func file(cycle: Bool) throws -> URL {
            var nodes: [[String: Any]] = [], edges: [[String: Any]] = []
            for i in 0..<n {
                let prompt = i == 0 ? "{question}" : "{slot:s\(i)} {question}"
                nodes.append(["id": "n\(i)", "model": "m", "prompts": ["first_round": prompt]])
                if i > 0 { edges.append(["from": "n\(i - 1)", "to": "n\(i)", "slot": "s\(i)"]) }
            }
            if cycle {  // n0 also reads the last node, forward: a cycle through every node
                nodes[0]["prompts"] = ["first_round": "{slot:back} {question}"]
                edges.append(["from": "n\(n - 1)", "to": "n0", "slot": "back"])
            }
            let object: [String: Any] = ["style": "custom", "nodes": nodes, "edges": edges,
                                         "schedule": ["order": (0..<n).map { "n\($0)" }, "answer": "n\(n - 1)"]]
            return try Self.write(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        }
        let clock = ContinuousClock(), start = clock.now
        _ = try GraphDefinition.load(try file(cycle: false))
        #expect((clock.now - start) < .seconds(30), "took \(clock.now - start)")
        let message = Self.loadError(try file(cycle: true))
        #expect(message?.contains("cycle with no feedback edge: n0 → n1 → n2") == true, "\(message?.prefix(200) ?? "accepted")")
    }
}
