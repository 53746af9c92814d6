// What a server answers with: loaded systems (agent graphs) and base models, by name.
import Agents
import Models

/// The systems and base models a server holds, loaded once (models shared one copy per GGUF by
/// ``LanguageModel/load(path:)``).
public struct ServedCatalog: Sendable {
    public enum Entry: Sendable {
        /// A multi-agent system: its graph and the tool executor of its tool-loop nodes, if any.
        case system(AgentGraph, tools: (any ToolExecutor)?)
        /// One model answering alone through its chat template.
        case model(LanguageModel)
    }

    /// Names in the order they were given (what `/v1/models` lists).
    public let names: [String]
    let entries: [String: Entry]

    /// `entries` in order; a repeated name is an error.
    public init(_ entries: [(name: String, entry: Entry)]) throws(ServerError) {
        var map: [String: Entry] = [:]
        for (name, entry) in entries {
            guard map[name] == nil else { throw .invalidRequest("two served entries are named '\(name)'") }
            map[name] = entry
        }
        names = entries.map(\.name)
        self.entries = map
    }

    public func entry(_ name: String) throws(ServerError) -> Entry {
        guard let entry = entries[name] else {
            throw .notFound("model '\(name)' is not served here (GET /v1/models lists \(names.joined(separator: ", ")))")
        }
        return entry
    }

    /// "system" or "model", for listings and metrics.
    public func kind(_ name: String) -> String {
        if case .system? = entries[name] { return "system" }
        return "model"
    }
}
