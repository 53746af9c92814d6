import Foundation
@testable import Agents
import Kernels
import Links
import Models
import RoleData
import TestSupport
import Testing
import Training

/// The shipped presets of the paper's other styles and a user-written ring, run and trained on
/// tiny models (each node's model swapped for a tiny GGUF; wide nodes 64, narrow nodes 32 wide).
@Suite("Agent graphs: mixture, distillation, deliberation and a custom ring on tiny models")
struct GraphStyleTests {
    static let presets = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/CLI/Resources/Presets").standardizedFileURL

    /// A four-node ring written by a user: a → b → c → d, d → a feedback, d answers.
    static let ring = """
        {"style": "custom",
         "nodes": [
           {"id": "a", "model": "wide", "target": "plan", "prompts": {"first_round": "Read {question}", "later_rounds": "Read {question} again with {slot:back}"}},
           {"id": "b", "model": "narrow", "target": "plan", "prompts": {"first_round": "Check {slot:a_out} for {question}"}},
           {"id": "c", "model": "narrow", "target": "refined_plan", "prompts": {"first_round": "Refine {slot:b_out}"}},
           {"id": "d", "model": "wide", "target": "answer", "prompts": {"first_round": "Solve {question} using {slot:c_out}. {instruction}"}}],
         "edges": [
           {"from": "a", "to": "b", "slot": "a_out"}, {"from": "b", "to": "c", "slot": "b_out", "link": "outer_linear_res_adapter"},
           {"from": "c", "to": "d", "slot": "c_out"}, {"from": "d", "to": "a", "slot": "back", "direction": "feedback"}],
         "schedule": {"order": ["a", "b", "c", "d"], "answer": "d", "rounds": 2}}
        """

    /// The named graph with tiny models: nodes of the first model in the file become "wide"
    /// (64-wide qwen2), the others "narrow" (32-wide llama) — so widths differ across edges.
    static func load(_ name: String) throws -> AgentGraph {
        let (_, _, folder) = try TinyGraph.models()
        var object: [String: Any]
        if name == "ring" {
            object = try JSONSerialization.jsonObject(with: Data(ring.utf8)) as! [String: Any]
        } else {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: presets.appendingPathComponent("\(name).json"))) as! [String: Any]
        }
        var nodes = object["nodes"] as! [[String: Any]]
        let first = nodes[0]["model"] as! String
        for i in nodes.indices {
            let model = nodes[i]["model"] as! String
            nodes[i]["model"] = (model == first || model == "wide") && model != "narrow" ? "wide.gguf" : "narrow.gguf"
        }
        object["nodes"] = nodes
        let url = folder.appendingPathComponent("\(name).json")
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return try LoadedGraph.load(url, resolveModel: { $0 }).graph
    }

    static let row = DataRow(question: "Tom has 3 apples and buys 4 more. How many apples?", fields: [
        "plan": "Step 1: add", "refined_plan": "Step 1: 3 + 4", "answer": "3 + 4 = 7. \\boxed{7}",
        "math_expert": "Add the two counts.", "code_expert": "print(3 + 4)", "science_expert": "Counting is additive.",
    ])

    static func stages(_ result: SystemRunResult) -> [String] {
        result.stages.map { "\($0.round)\($0.node)\($0.latentSteps > 0 ? "~" : "")" }
    }

    @Test("mixture: three experts think, the summarizer decodes every round and sends feedback to each expert")
    func mixture() throws {
        let graph = try Self.load("mixture")
        let result = try GraphRunner(graph: graph).run(question: Self.row.question, method: .latent, rounds: 2, latentSteps: 2,
                                                       generation: GenerationParameters(maxTokens: 3))
        #expect(Self.stages(result) == ["1math_expert~", "1code_expert~", "1science_expert~", "1summarizer", "1summarizer~",
                                         "2math_expert~", "2code_expert~", "2science_expert~", "2summarizer"])
        #expect(result.stages[3].latentInputs == 6, "the summarizer reads three 2-row expert slots")
        #expect(result.stages[5].latentInputs == 2, "each expert reads the summarizer's feedback from round 2")
        #expect(result.text == result.stages.last?.text)
    }

    @Test("distillation: expert → learner with learner → expert feedback; only the learner decodes")
    func distillation() throws {
        let graph = try Self.load("distillation")
        let result = try GraphRunner(graph: graph).run(question: Self.row.question, method: .latent, rounds: 2, latentSteps: 2,
                                                       generation: GenerationParameters(maxTokens: 3))
        #expect(Self.stages(result) == ["1expert~", "1learner~", "2expert~", "2learner"])
    }

    @Test("deliberation: reflector ⇄ tool-caller; the tool-caller's decoder is a Python tool loop")
    func deliberation() throws {
        let graph = try Self.load("deliberation")
        #expect(graph.nodes[1].decoder == .toolLoop(ToolLoopOptions(tools: [.python], maxCalls: 5, markdownFences: true)))
        let result = try GraphRunner(graph: graph).run(question: Self.row.question, method: .latent, rounds: 1, latentSteps: 2,
                                                       generation: GenerationParameters(maxTokens: 3))
        #expect(Self.stages(result) == ["1reflector~", "1toolcaller"])
    }

    @Test("a user-written four-node ring runs with every method, widths changing along the ring")
    func ring() throws {
        let graph = try Self.load("ring")
        #expect(graph.edges.map { "\($0.link.inputWidth)→\($0.link.outputWidth)" } == ["64→32", "32→32", "32→64", "64→64"])
        let runner = GraphRunner(graph: graph)
        let parameters = GenerationParameters(maxTokens: 3)
        let latent = try runner.run(question: "2 + 2?", method: .latent, rounds: 2, latentSteps: 2, generation: parameters)
        #expect(Self.stages(latent) == ["1a~", "1b~", "1c~", "1d~", "2a~", "2b~", "2c~", "2d"])
        let text = try runner.run(question: "2 + 2?", method: .text, rounds: 2, latentSteps: 2, generation: parameters)
        #expect(Self.stages(text) == ["1a", "1b", "1c", "1d", "2a", "2b", "2c", "2d"])
        let single = try runner.run(question: "2 + 2?", method: .single, rounds: 2, latentSteps: 2, generation: parameters, singleNode: 1)
        #expect(Self.stages(single) == ["1b"])
    }

    @Test("every style trains: finite loss, gradient on every edge used, and the directional derivative matches finite differences",
          arguments: ["mixture", "distillation", "deliberation", "ring"])
    func trains(_ name: String) throws {
        let graph = try Self.load(name)
        var options = OuterObjectiveOptions()
        options.rounds = 2
        options.maximumLatentRows = 4
        options.finalRoundOnly = false
        options.threads = 1
        let parameters = graph.outerParameters
        parameters.zeroGradients()
        let result = try graph.outerObjective(Self.row, options: options)
        #expect(result.loss.isFinite && result.loss > 0)
        for k in graph.edges.indices {
            let norms = try #require(result.gradientNorms[graph.edgeName(k)])
            #expect(norms[0] > 0 || graph.edges[k].direction == .feedback, "\(name) \(graph.edgeName(k)) round 1")
            #expect(norms[1] > 0 || graph.edges[k].direction == .feedback, "\(name) \(graph.edgeName(k)) round 2")
            #expect(graph.edges[k].direction == .forward || norms[0] > 0, "\(name): feedback from round 1 is trained through round 2")
        }
        // ⟨∇L, v⟩ against the central difference along one random direction over all links.
        var rng = SplitMix64(seed: 11)
        var direction: [[Float]] = parameters.map { p in (0..<p.count).map { _ in rng.nextUnitFloat() * 2 - 1 } }
        var squared = 0.0
        for row in direction { for x in row { squared += Double(x) * Double(x) } }
        let scale = Float(1 / squared.squareRoot())
        direction = direction.map { row in row.map { $0 * scale } }
        var analytic = 0.0
        for (p, v) in zip(parameters, direction) { for i in 0..<p.count { analytic += Double(p.gradient[i]) * Double(v[i]) } }
        let original = parameters.map(\.values)
        func loss(_ step: Float) throws -> Double {
            for (k, p) in parameters.enumerated() { p.values = zip(original[k], direction[k]).map { $0 + step * $1 } }
            defer { for (k, p) in parameters.enumerated() { p.values = original[k] } }
            return try graph.outerObjective(Self.row, options: options, gradient: false).loss
        }
        // Five-point stencil (error O(ε⁴)); smaller steps drown the derivative in Float32 rounding.
        let e: Float = 0.1
        let numeric = (8 * (try loss(e) - loss(-e)) - (try loss(2 * e) - loss(-2 * e))) / (12 * Double(e))
        #expect(abs(analytic - numeric) <= 3e-2 * max(abs(numeric), 1e-4), "\(name): analytic \(analytic), numeric \(numeric)")
    }

    @Test("graph training resumes exactly: 2 + 2 steps equal 4 straight", arguments: ["mixture", "ring"])
    func resume(_ name: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-style-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = OuterTrainingConfiguration()
        configuration.objective.rounds = 2
        configuration.objective.maximumLatentRows = 3
        configuration.objective.threads = 1
        configuration.steps = 4
        configuration.batchSize = 1
        configuration.checkpointEvery = 1
        configuration.evaluateEvery = 10
        configuration.learningRate = 1e-2
        let rows = [Self.row, DataRow(question: "5 − 2?", fields: Self.row.fields)]
        let straight = try Self.load(name)
        let identities = straight.nodes.map { CheckpointManifest.Model(role: $0.id, name: "tiny", sha256: "t") }
        try OuterTrainer(graph: straight, train: rows, heldOut: [], configuration: configuration, output: directory.appendingPathComponent("a"),
                         models: identities, resume: false).run()
        try OuterTrainer(graph: try Self.load(name), train: rows, heldOut: [], configuration: configuration,
                         output: directory.appendingPathComponent("b"), models: identities, resume: false).run { $0.step < 2 }
        let resumed = try Self.load(name)
        let trainer = try OuterTrainer(graph: resumed, train: rows, heldOut: [], configuration: configuration,
                                       output: directory.appendingPathComponent("b"), models: identities, resume: true)
        #expect(trainer.step == 2)
        try trainer.run()
        #expect(straight.outerParameters.map(\.values) == resumed.outerParameters.map(\.values))
    }

    @Test("a row without a node's target field is refused by the trainer, naming the fields")
    func missingTargets() throws {
        let graph = try Self.load("mixture")
        let row = DataRow(question: "x", fields: ["answer": "y"])
        #expect {
            try OuterTrainer(graph: graph, train: [row], heldOut: [], configuration: OuterTrainingConfiguration(),
                             output: FileManager.default.temporaryDirectory.appendingPathComponent("rmas-none-\(UUID().uuidString)"),
                             models: [], resume: false)
        } throws: { error in "\(error)".contains("math_expert") }
    }
}
