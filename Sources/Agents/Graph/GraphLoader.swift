// From a system file to a runnable graph: models resolved (fetched where needed) and shared one
// copy per GGUF, inner and outer links restored from their checkpoints, checkpoints trained for
// other model files refused, and the identities that checkpoints and reports record.
import Foundation
import Links
import Models
import ModelFetch
import Training

/// A graph built from its file, with what checkpoints and comparison runs record about it.
public struct LoadedGraph: Sendable {
    public let definition: GraphDefinition
    /// The system file (paths in it are relative to its folder).
    public let url: URL
    public let graph: AgentGraph
    /// Each node's GGUF file, by node id.
    public let modelPaths: [String: String]

    /// Loads the file at `url` (or an already read `definition` of it); `resolveModel` turns a
    /// registry name or path into a GGUF path (fetching if needed). With `checkProvenance`, a link
    /// checkpoint that records another model file for a node it touches is refused.
    public static func load(
        _ url: URL, definition: GraphDefinition? = nil, resolveModel: (String) throws -> String, checkProvenance: Bool = true,
        seed: UInt64 = 42
    ) throws -> LoadedGraph {
        let definition = try definition ?? GraphDefinition.load(url)
        let base = url.deletingLastPathComponent(), file = url.path
        func path(_ p: String) -> URL { GraphDefinition.resolve(p, relativeTo: base) }
        var paths: [String: String] = [:], resolved: [String: String] = [:]
        var nodes: [AgentGraph.Node] = []
        for (i, spec) in definition.nodes.enumerated() {
            let modelSpec = Self.modelSpec(spec.model, relativeTo: base)
            if resolved[modelSpec] == nil { resolved[modelSpec] = try resolveModel(modelSpec) }
            let modelPath = resolved[modelSpec]!
            paths[spec.id] = modelPath
            let model = try LanguageModel.load(path: modelPath)
            let width = model.configuration.width
            let inner = try spec.innerLink.map { try InnerLink.load(checkpoint: path($0), width: width) }
                ?? InnerLink(width: width, prefix: "inner.", seed: seed &+ UInt64(i))
            nodes.append(.init(id: spec.id, model: model, inner: inner, prompts: spec.prompts, target: spec.target, decoder: spec.decoder))
        }
        let index = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1.id, $0) })
        var links: [OuterLink] = []
        for (k, edge) in definition.edges.enumerated() {
            let (source, target) = (nodes[index[edge.from]!].model.configuration.width, nodes[index[edge.to]!].model.configuration.width)
            let link = OuterLink(kind: edge.link, inputWidth: source, outputWidth: target, prefix: edge.parameterPrefix,
                                 seed: seed &+ 100 &+ UInt64(k))
            if let checkpoint = edge.checkpoint {
                do {
                    let (_, weights, _) = try CheckpointStore(directory: path(checkpoint)).load()
                    try CheckpointStore.restore(link.parameters, from: weights)
                } catch {
                    throw GraphError.invalid(file: file, place: "edge '\(edge.from)' → '\(edge.to)'",
                                             problem: "checkpoint \(checkpoint): \(error)")
                }
            }
            links.append(link)
        }
        let loaded = LoadedGraph(definition: definition, url: url,
                                 graph: try AgentGraph(definition: definition, nodes: nodes, links: links, file: file), modelPaths: paths)
        if checkProvenance { try loaded.checkProvenance() }
        return loaded
    }

    /// What `resolveModel` receives for a node's `model`: a registry name as is; a GGUF path made
    /// absolute, relative to the file's folder like every other path.
    public static func modelSpec(_ model: String, relativeTo base: URL) -> String {
        guard model.hasSuffix(".gguf"), !model.hasPrefix("/") else { return model }
        return base.appendingPathComponent(model).path
    }

    /// One identity per node, in node order; a file shared by several nodes is hashed once.
    public func modelIdentities() throws -> [CheckpointManifest.Model] {
        var digests: [String: String] = [:]
        return try definition.nodes.map { node in
            let path = modelPaths[node.id]!
            if digests[path] == nil { digests[path] = try ModelIdentity.sha256(of: path) }
            return CheckpointManifest.Model(role: node.id, name: node.model, sha256: digests[path]!)
        }
    }

    /// Refuses a link checkpoint that records, for a node it touches, another model file (by
    /// SHA-256) than the node runs: same width does not mean the same hidden space.
    public func checkProvenance() throws {
        let identities = Dictionary(uniqueKeysWithValues: try modelIdentities().map { ($0.role, $0) })
        func check(_ checkpoint: String, place: String, nodes: Set<String>) throws {
            let trained = try CheckpointStore(directory: directory(checkpoint)).manifest().models
            for record in trained where nodes.contains(record.role) {
                let current = identities[record.role]!
                guard record.sha256 != current.sha256 else { continue }
                throw GraphError.foreignCheckpoint(
                    file: url.path, place: place,
                    detail: "checkpoint \(checkpoint) was trained with \(record.name) (sha256 \(record.sha256.prefix(12))…) as '\(record.role)', "
                        + "which here runs \(current.name) (sha256 \(current.sha256.prefix(12))…); its latents would be meaningless")
            }
        }
        for node in definition.nodes {
            if let link = node.innerLink { try check(link, place: "node '\(node.id)' inner link", nodes: [node.id]) }
        }
        for edge in definition.edges {
            if let checkpoint = edge.checkpoint { try check(checkpoint, place: "edge '\(edge.from)' → '\(edge.to)'", nodes: [edge.from, edge.to]) }
        }
    }

    /// The links without a checkpoint ("planner inner", "planner → refiner", …): untrained.
    public var untrainedLinks: [String] {
        definition.nodes.filter { $0.innerLink == nil }.map { "\($0.id) inner" }
            + definition.edges.filter { $0.checkpoint == nil }.map { "\($0.from) → \($0.to)" }
    }

    /// The SHA-256 of each link checkpoint's weights (``GraphDefinition/linkDigests(relativeTo:)``).
    public func linkDigests() throws -> [String: String] { try definition.linkDigests(relativeTo: url.deletingLastPathComponent()) }

    /// The definition with every outer link's checkpoint set to `checkpoint` and every path made
    /// absolute, so it can be written anywhere (registry names stay names).
    public func withOuterCheckpoint(_ checkpoint: URL) -> GraphDefinition {
        var copy = definition
        for i in copy.nodes.indices {
            let node = copy.nodes[i]
            if ModelCatalog.model(named: node.model) == nil {
                copy.nodes[i].model = URL(fileURLWithPath: modelPaths[node.id]!).standardizedFileURL.path
            }
            copy.nodes[i].innerLink = node.innerLink.map { directory($0).standardizedFileURL.path }
        }
        for i in copy.edges.indices { copy.edges[i].checkpoint = checkpoint.standardizedFileURL.path }
        if let documents = copy.documents { copy.documents = directory(documents).standardizedFileURL.path }
        return copy
    }

    /// A path of the file made a URL (relative to the file's folder).
    public func directory(_ p: String) -> URL {
        GraphDefinition.resolve(p, relativeTo: url.deletingLastPathComponent())
    }
}

extension GraphDefinition {
    /// A path written in a system file: absolute as is, else relative to the file's folder `base`.
    public static func resolve(_ path: String, relativeTo base: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
    }

    /// The SHA-256 of the weights file each link checkpoint points at, keyed "planner inner",
    /// "planner → refiner", …; retraining a link in place changes it. Paths relative to `base`.
    public func linkDigests(relativeTo base: URL) throws -> [String: String] {
        func directory(_ p: String) -> URL { Self.resolve(p, relativeTo: base) }
        var named: [(String, String)] = nodes.compactMap { node in node.innerLink.map { ("\(node.id) inner", $0) } }
        named += edges.compactMap { edge in edge.checkpoint.map { ("\(edge.from) → \(edge.to)", $0) } }
        var digests: [String: String] = [:], byFile: [String: String] = [:]
        for (label, checkpoint) in named {
            let store = CheckpointStore(directory: directory(checkpoint))
            let weights = try store.weightsURL().path
            if byFile[weights] == nil { byFile[weights] = try SHA256.hexDigest(ofFile: weights) }
            digests[label] = byFile[weights]
        }
        return digests
    }

    /// Every prompt text of the graph by a stable key ("system", "single", "instruction.free",
    /// "<node>.first_round", …), or nil when they are exactly the built-in sequential wording
    /// (what comparison settings recorded before graphs, so older runs still continue).
    public var promptRecord: [String: String]? {
        func record(_ g: GraphDefinition) -> [String: String] {
            var out = ["system": g.systemPrompt, "single": g.singlePrompt, "instruction.free": g.instructions.free,
                       "instruction.choice": g.instructions.choice]
            // Recorded only when changed, so settings recorded before the code wording existed still match.
            if g.instructions.code != GraphDefinition.Instructions.codeDefault { out["instruction.code"] = g.instructions.code }
            for node in g.nodes {
                out["\(node.id).first_round"] = node.prompts.firstRound
                if let later = node.prompts.laterRounds { out["\(node.id).later_rounds"] = later }
            }
            return out
        }
        let mine = record(self)
        return mine == record(.sequential()) ? nil : mine
    }
}
