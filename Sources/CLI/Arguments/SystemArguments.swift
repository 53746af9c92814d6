import Agents
import ArgumentParser
import Foundation
import ModelFetch
import RoleData
import Training

/// `--system FILE`, shared by the commands that build a recursive system.
struct SystemArguments: ParsableArguments {
    @Option(help: "System definition (JSON): the model of each role, inner links, outer links and run defaults. Default: the shipped sequential math system (Qwen2.5-0.5B planner → SmolLM2-135M critic → Qwen2.5-0.5B solver, trained links).")
    var system: String?

    var url: URL { system.map { URL(fileURLWithPath: $0) } ?? Self.defaultSystem }

    /// The system that ships inside the executable's resources.
    static var defaultSystem: URL {
        Bundle.module.url(forResource: "DefaultSystem", withExtension: nil)!.appendingPathComponent("system.json")
    }

    /// Reads and checks the definition file.
    func definition() throws -> SystemDefinition { try SystemDefinition.load(url) }

    /// The SHA-256 of the weights file each link checkpoint points at, keyed by link
    /// ("planner inner", "planner → refiner", …); links without a checkpoint are absent.
    /// Retraining a link in place keeps the system file's text but changes this.
    func linkDigests(_ definition: SystemDefinition) throws -> [String: String] {
        let base = url.deletingLastPathComponent()
        var named: [(String, String)] = definition.agents.compactMap { agent in agent.innerLink.map { ("\(agent.role.rawValue) inner", $0) } }
        named += definition.links.compactMap { link in link.checkpoint.map { ("\(link.from.rawValue) → \(link.to.rawValue)", $0) } }
        var digests: [String: String] = [:], byFile: [String: String] = [:]
        for (label, checkpoint) in named {
            let directory = checkpoint.hasPrefix("/") ? URL(fileURLWithPath: checkpoint) : base.appendingPathComponent(checkpoint)
            let store = CheckpointStore(directory: directory)
            let weights = store.directory.appendingPathComponent(try store.manifest().weightsFile).standardizedFileURL.path
            if byFile[weights] == nil { byFile[weights] = try SHA256.hexDigest(ofFile: weights) }
            digests[label] = byFile[weights]
        }
        return digests
    }

    /// Builds the system, fetching registry models that are missing, and remembers each agent's
    /// GGUF path (for checkpoint identities). Warns when `latent` and a link is untrained.
    func load(_ definition: SystemDefinition, latent: Bool = true) throws -> LoadedSystem {
        let untrainedInner = definition.agents.filter { $0.innerLink == nil }.map(\.role.rawValue)
        let untrainedOuter = definition.links.filter { $0.checkpoint == nil }.map { "\($0.from.rawValue) → \($0.to.rawValue)" }
        if latent, !(untrainedInner.isEmpty && untrainedOuter.isEmpty) {
            let names = untrainedInner.map { "\($0) inner" } + untrainedOuter
            Console.error("warning: links without a checkpoint are freshly initialised (untrained): \(names.joined(separator: ", "))")
        }
        var paths: [String: String] = [:]
        let built = try definition.instantiate(relativeTo: url.deletingLastPathComponent()) { spec in
            if let path = paths[spec] { return path }
            let path = try resolveModelPath(spec)
            paths[spec] = path
            return path
        }
        let base = url.deletingLastPathComponent()
        let modelPaths = Dictionary(uniqueKeysWithValues: definition.agents.map {
            ($0.role, paths[SystemDefinition.modelSpec($0.model, relativeTo: base)]!)
        })
        let loaded = LoadedSystem(definition: definition, url: url, system: built, modelPaths: modelPaths)
        if latent {
            let digests = Dictionary(uniqueKeysWithValues: try loaded.modelIdentities().map { ($0.role, $0.sha256) })
            for mismatch in try definition.provenanceMismatches(relativeTo: base, digest: { digests[$0.rawValue]! }) {
                Console.error("warning: \(mismatch); its latents may be meaningless for this model")
            }
        }
        return loaded
    }
}

/// A system built from its definition file.
struct LoadedSystem {
    let definition: SystemDefinition
    let url: URL
    let system: SequentialSystem
    /// Each role's GGUF file.
    let modelPaths: [AgentRole: String]

    /// One identity per agent, in pipeline order (planner, refiner, solver); a file shared by
    /// several agents is hashed once.
    func modelIdentities() throws -> [CheckpointManifest.Model] {
        var digests: [String: String] = [:]
        return try AgentRole.allCases.map { role in
            let agent = definition.agents.first { $0.role == role }!
            let path = modelPaths[role]!
            if digests[path] == nil { digests[path] = try ModelIdentity.sha256(of: path) }
            return CheckpointManifest.Model(role: role.rawValue, name: agent.model, sha256: digests[path]!)
        }
    }

    /// The definition with every outer link's checkpoint set to `checkpoint` and every path made
    /// absolute, so it can be written anywhere (model files by their resolved paths; registry
    /// names stay names).
    func withOuterCheckpoint(_ checkpoint: URL) -> SystemDefinition {
        let base = url.deletingLastPathComponent()
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path }
        var copy = definition
        for i in copy.agents.indices {
            let agent = copy.agents[i]
            if ModelCatalog.model(named: agent.model) == nil {
                copy.agents[i].model = URL(fileURLWithPath: modelPaths[agent.role]!).standardizedFileURL.path
            }
            copy.agents[i].innerLink = agent.innerLink.map(absolute)
        }
        for i in copy.links.indices { copy.links[i].checkpoint = checkpoint.standardizedFileURL.path }
        return copy
    }
}
