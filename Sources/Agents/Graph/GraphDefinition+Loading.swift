// Reading a system file: the graph format, or the earlier sequential format ("agents" + "links",
// read as the sequential preset's graph so existing files and link checkpoints keep working).
import Foundation
import RoleData
import Training

extension GraphDefinition {
    /// Reads, decodes (unknown keys are errors) and validates the system file at `url`.
    public static func load(_ url: URL) throws(GraphError) -> GraphDefinition {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .unreadable(file: file, detail: "cannot be read: \(error.localizedDescription)")
        }
        let definition = try decode(data, file: file)
        try definition.validate(file: file)
        return definition
    }

    /// Decodes either format; `file` labels errors.
    public static func decode(_ data: Data, file: String) throws(GraphError) -> GraphDefinition {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw .unreadable(file: file, detail: "not valid JSON (\(error.localizedDescription))")
        }
        guard let dictionary = object as? [String: Any] else { throw .unreadable(file: file, detail: "must hold one JSON object") }
        do {
            if dictionary["agents"] != nil {
                return try JSONDecoder().decode(SystemDefinition.self, from: data).graph()
            }
            return try JSONDecoder().decode(GraphDefinition.self, from: data)
        } catch let error as UnknownKeyError {
            throw .unknownKey(file: file, path: error.path, key: error.key, suggestion: error.suggestion)
        } catch let error as DecodingError {
            throw .unreadable(file: file, detail: error.readableDescription)
        } catch GraphError.invalid(let named, let place, let problem) where named.isEmpty {
            throw .invalid(file: file, place: place, problem: problem)  // raised by a conversion that knows no file
        } catch let error as GraphError {
            throw error
        } catch {
            throw .unreadable(file: file, detail: "\(error)")
        }
    }

    /// The file as JSON (pretty, sorted keys), as `rmas` writes
    /// system files.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

extension SystemDefinition {
    /// The earlier sequential file as a graph: its three roles as nodes with the sequential
    /// templates (its "prompts" block applied), its three links as edges.
    public func graph() throws(GraphError) -> GraphDefinition {
        for role in AgentRole.allCases where agents.filter({ $0.role == role }).count != 1 {
            throw .invalid(file: "", place: "agents", problem: "needs exactly one \(role.rawValue) agent")
        }
        for (from, to) in [(AgentRole.planner, AgentRole.refiner), (.refiner, .solver), (.solver, .planner)]
        where links.filter({ $0.from == from && $0.to == to }).count != 1 {
            throw .invalid(file: "", place: "links", problem: "needs exactly one link \(from.rawValue) → \(to.rawValue)")
        }
        if let problems = prompts?.problems(), !problems.isEmpty {
            throw .invalid(file: "", place: "prompts", problem: problems.joined(separator: "; "))
        }
        guard style == "sequential" else { throw .invalid(file: "", place: "style", problem: "'\(style)' is not supported by this format (sequential)") }
        let t = templates
        var graph = GraphDefinition.sequential(templates: t, rounds: defaults.rounds)
        for agent in agents {
            guard let i = graph.nodes.firstIndex(where: { $0.id == agent.role.rawValue }) else { continue }
            graph.nodes[i].model = agent.model
            graph.nodes[i].innerLink = agent.innerLink
        }
        for link in links {
            guard let i = graph.edges.firstIndex(where: { $0.from == link.from.rawValue && $0.to == link.to.rawValue }) else { continue }
            if let kind = link.kind {
                do { graph.edges[i].link = try .init(name: kind) } catch {
                    throw .invalid(file: "", place: "link '\(link.from.rawValue)' → '\(link.to.rawValue)'", problem: "\(error)")
                }
            }
            graph.edges[i].checkpoint = link.checkpoint
        }
        graph.defaults.latentSteps = defaults.latentSteps
        graph.defaults.maxTokens = defaults.maxTokens
        graph.defaults.maxLatentTokens = defaults.maxLatentTokens
        return graph
    }
}

extension GraphDefinition {
    /// The sequential style (spec §4.1) over `templates`: planner → refiner → solver, solver →
    /// planner feedback; models left as the shipped default's (Qwen2.5-0.5B, SmolLM2-135M).
    public static func sequential(templates t: PromptTemplates = .sequentialMath, rounds: Int = 1) -> GraphDefinition {
        func slot(_ template: String, _ name: String) -> String {
            template.replacingOccurrences(of: "{slot}", with: "{slot:\(name)}")
        }
        return GraphDefinition(
            style: .sequential, systemPrompt: t.system,
            nodes: [
                .init(id: "planner", model: "qwen2.5-0.5b",
                      prompts: .init(firstRound: t.plannerFirstRound, laterRounds: slot(t.plannerLaterRound, "feedback")), target: "plan"),
                .init(id: "refiner", model: "smollm2-135m", prompts: .init(firstRound: slot(t.refiner, "planner")), target: "refined_plan"),
                .init(id: "solver", model: "qwen2.5-0.5b", prompts: .init(firstRound: slot(t.solver, "refined")), target: "answer"),
            ],
            edges: [
                .init(from: "planner", to: "refiner", slot: "planner"),
                .init(from: "refiner", to: "solver", slot: "refined"),
                .init(from: "solver", to: "planner", slot: "feedback", direction: .feedback),
            ],
            schedule: .init(order: ["planner", "refiner", "solver"], answer: "solver", rounds: rounds),
            instructions: .init(free: t.solverInstruction, choice: t.solverChoiceInstruction), singlePrompt: t.singleAgent)
    }
}
