// The system definition file (JSON): which frozen model plays each role, where each agent's
// inner link and each outer link come from, and the run defaults. This project's own format.
import Foundation
import Links
import Models
import RoleData
import Training

/// A sequential RecursiveMAS system as written in a JSON file.
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
    public static func load(_ url: URL) throws(AgentError) -> SystemDefinition {
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

    /// What `resolveModel` receives for an agent's `model`: a registry name as is; a GGUF path made
    /// absolute, relative to the definition's folder like every other path.
    public static func modelSpec(_ model: String, relativeTo base: URL) -> String {
        guard model.hasSuffix(".gguf"), !model.hasPrefix("/") else { return model }
        return base.appendingPathComponent(model).path
    }

    /// Builds the system; `resolveModel` turns a model spec into a GGUF path (fetching if needed).
    public func instantiate(relativeTo base: URL, resolveModel: (String) throws -> String, seed: UInt64 = 42) throws -> SequentialSystem {
        func path(_ p: String) -> URL { p.hasPrefix("/") ? URL(fileURLWithPath: p) : base.appendingPathComponent(p) }
        var built: [AgentRole: SequentialAgent] = [:]
        for (i, agent) in agents.enumerated() {
            let spec = Self.modelSpec(agent.model, relativeTo: base)
            let model = try LanguageModel.load(path: try resolveModel(spec))
            let width = model.configuration.width
            let inner = try agent.innerLink.map { try InnerLink.load(checkpoint: path($0), width: width) }
                ?? InnerLink(width: width, prefix: "inner.", seed: seed &+ UInt64(i))
            built[agent.role] = SequentialAgent(model: model, role: agent.role, inner: inner)
        }
        func outer(_ from: AgentRole, _ to: AgentRole, _ salt: UInt64) throws -> OuterLink {
            let spec = links.first { $0.from == from && $0.to == to }!
            let (source, target) = (built[from]!.model.configuration.width, built[to]!.model.configuration.width)
            let kind = try OuterLinkKind(name: spec.kind ?? OuterLinkKind.default.rawValue)
            let prefix = "\(from.rawValue)_to_\(to.rawValue)."
            let link = OuterLink(kind: kind, inputWidth: source, outputWidth: target, prefix: prefix, seed: seed &+ salt)
            if let checkpoint = spec.checkpoint {
                let (_, weights, _) = try CheckpointStore(directory: path(checkpoint)).load()
                try CheckpointStore.restore(link.parameters, from: weights)
            }
            return link
        }
        return try SequentialSystem(
            planner: built[.planner]!, refiner: built[.refiner]!, solver: built[.solver]!,
            plannerToRefiner: try outer(.planner, .refiner, 100), refinerToSolver: try outer(.refiner, .solver, 101),
            solverToPlanner: try outer(.solver, .planner, 102), templates: templates)
    }

    /// The links whose checkpoint records a different model (by SHA-256) for a role than the one
    /// that role runs now, one sentence each. Widths can agree while the hidden spaces do not
    /// (another model, a requantized file), so such a link runs but maps meaninglessly.
    /// `digest(role)` is the SHA-256 of that role's model file.
    public func provenanceMismatches(relativeTo base: URL, digest: (AgentRole) throws -> String) throws -> [String] {
        func path(_ p: String) -> URL { p.hasPrefix("/") ? URL(fileURLWithPath: p) : base.appendingPathComponent(p) }
        var out: [String] = []
        func check(_ checkpoint: String, _ what: String, roles: Set<AgentRole>) throws {
            let trained = try CheckpointStore(directory: path(checkpoint)).manifest().models
            for record in trained {
                guard let role = AgentRole(rawValue: record.role), roles.contains(role) else { continue }
                let current = try digest(role)
                if record.sha256 != current {
                    let model = agents.first { $0.role == role }!.model
                    out.append("\(what) (\(checkpoint)) was trained with \(record.name) (sha256 \(record.sha256.prefix(12))…) as the "
                               + "\(role.rawValue), which here is \(model) (sha256 \(current.prefix(12))…)")
                }
            }
        }
        for agent in agents { if let link = agent.innerLink { try check(link, "the \(agent.role.rawValue)'s inner link", roles: [agent.role]) } }
        for link in links {
            if let checkpoint = link.checkpoint {
                try check(checkpoint, "the outer link \(link.from.rawValue) → \(link.to.rawValue)", roles: [link.from, link.to])
            }
        }
        return out
    }
}
