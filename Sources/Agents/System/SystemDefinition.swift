// The system definition file (JSON): which frozen model plays each role, where each agent's
// inner link and each outer link come from, and the run defaults. This project's own format.
import Foundation
import Links
import Models
import RoleData
import Training

/// The earlier system file format (a sequential system: three roles, three links), read as the
/// sequential preset's graph by ``GraphDefinition/load(_:)`` (``graph()``).
///
/// ```json
/// {"style": "sequential",
///  "agents": [{"role": "planner", "model": "qwen2.5-0.5b", "inner_link": "links/planner"}, …],
///  "links": [{"from": "planner", "to": "refiner", "kind": "outer_ln_res_adapter", "checkpoint": "links/outer"}, …],
///  "defaults": {"rounds": 2, "latent_steps": 16, "max_tokens": 256, "max_latent_tokens": 80},
///  "prompts": {"solver_instruction": "…"}}
/// ```
/// Paths are relative to the file. `prompts` (optional, ``Prompts``) replaces any of the built-in
/// prompt templates. A link without a checkpoint is freshly initialised (seeded),
/// which is only meaningful before outer-loop training.
public struct SystemDefinition: Codable, Sendable, Equatable {
    public struct Agent: Codable, Sendable, Equatable {
        public var role: AgentRole
        /// A registry name or a GGUF path (relative to the file).
        public var model: String
        /// Inner-link checkpoint directory (from `rmas train inner`); nil = freshly initialised.
        public var innerLink: String?
        enum CodingKeys: String, CodingKey { case role, model, innerLink = "inner_link" }
    }

    public struct Link: Codable, Sendable, Equatable {
        public var from: AgentRole
        public var to: AgentRole
        public var kind: String?
        /// Checkpoint directory holding a link named "<from>_to_<to>"; nil = freshly initialised.
        public var checkpoint: String?
    }

    public struct Defaults: Codable, Sendable, Equatable {
        public var rounds = 2
        public var latentSteps = 16
        public var maxTokens = 256
        /// Latent rows an outer link passes on in training (the first assistant positions;
        /// spec §2.4's max_latent_tokens): `train outer`'s default for --max-latent-rows.
        public var maxLatentTokens = 80
        enum CodingKeys: String, CodingKey {
            case rounds, latentSteps = "latent_steps", maxTokens = "max_tokens", maxLatentTokens = "max_latent_tokens"
        }

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            rounds = try c.decodeIfPresent(Int.self, forKey: .rounds) ?? rounds
            latentSteps = try c.decodeIfPresent(Int.self, forKey: .latentSteps) ?? latentSteps
            maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? maxTokens
            maxLatentTokens = try c.decodeIfPresent(Int.self, forKey: .maxLatentTokens) ?? maxLatentTokens
        }
    }

    public var style = "sequential"
    public var agents: [Agent]
    public var links: [Link]
    public var defaults = Defaults()
    /// Templates replacing parts of the built-in wording (nil: all built-in); see ``templates``.
    public var prompts: Prompts?

    enum CodingKeys: String, CodingKey { case style, agents, links, defaults, prompts }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        style = try c.decodeIfPresent(String.self, forKey: .style) ?? "sequential"
        agents = try c.decode([Agent].self, forKey: .agents)
        links = try c.decode([Link].self, forKey: .links)
        defaults = try c.decodeIfPresent(Defaults.self, forKey: .defaults) ?? Defaults()
        prompts = try c.decodeIfPresent(Prompts.self, forKey: .prompts)
    }

    /// Reads and checks a definition: the sequential style, exactly one agent per role, and the
    /// three links planner → refiner → solver → planner.
    public static func loadLegacy(_ url: URL) throws(AgentError) -> SystemDefinition {
        let definition: SystemDefinition
        do {
            definition = try JSONDecoder().decode(SystemDefinition.self, from: Data(contentsOf: url))
        } catch {
            throw .invalidArgument("\(url.path): not a valid system definition: \(error)")
        }
        guard definition.style == "sequential" else {
            throw .invalidArgument("\(url.path): style '\(definition.style)' is not supported (sequential)")
        }
        for role in AgentRole.allCases where definition.agents.filter({ $0.role == role }).count != 1 {
            throw .invalidArgument("\(url.path): needs exactly one \(role.rawValue) agent")
        }
        for (from, to) in [(AgentRole.planner, AgentRole.refiner), (.refiner, .solver), (.solver, .planner)]
        where definition.links.filter({ $0.from == from && $0.to == to }).count != 1 {
            throw .invalidArgument("\(url.path): needs exactly one link \(from.rawValue) → \(to.rawValue)")
        }
        let d = definition.defaults
        guard d.rounds >= 1, d.latentSteps >= 1, d.maxTokens >= 1, d.maxLatentTokens >= 1 else {
            throw .invalidArgument("\(url.path): defaults rounds, latent_steps, max_tokens and max_latent_tokens must be at least 1")
        }
        if let problems = definition.prompts?.problems(), !problems.isEmpty {
            throw .invalidArgument("\(url.path): " + problems.joined(separator: "; "))
        }
        return definition
    }
}
