// The tools a tool-loop node calls (spec §4.4): Python code run in the project's sandbox, and BM25
// search over the system's local document collection in place of a web search service.
import Foundation
import Sandbox

/// Runs tool calls with ``PythonTool`` (sandboxed) and ``DocumentSearch``.
public struct SandboxToolExecutor: ToolExecutor {
    let python: PythonTool?
    let search: DocumentSearch?

    /// `documents` is the search collection (JSONL); nil leaves the search tool unavailable.
    public init(documents: URL? = nil) throws {
        python = try PythonTool(python: PythonSandbox())
        search = try documents.map { try DocumentSearch(jsonl: $0.path) }
    }

    /// The executor a graph's tool-loop nodes need (nil when no node has a tool loop); its
    /// document collection is the system file's `documents`.
    public static func forGraph(_ loaded: LoadedGraph) throws -> SandboxToolExecutor? {
        guard loaded.graph.nodes.contains(where: { if case .toolLoop = $0.decoder { true } else { false } }) else { return nil }
        return try SandboxToolExecutor(documents: loaded.definition.documents.map(loaded.directory))
    }

    public func call(_ tool: ToolKind, input: String) -> ToolCallRecord {
        switch tool {
        case .python:
            guard let python else { return ToolCallRecord(tool: tool, input: input, result: "python is not available", limit: "unavailable") }
            do {
                let text = try python(input)
                let limit = text.contains("[timeout]") ? "timeout" : text.contains("[limit]") ? "resource limit" : nil
                return ToolCallRecord(tool: tool, input: input, result: text, limit: limit)
            } catch {
                return ToolCallRecord(tool: tool, input: input, result: "sandbox error: \(error)", limit: "sandbox")
            }
        case .search:
            guard let search else { return ToolCallRecord(tool: tool, input: input, result: "search is not available", limit: "unavailable") }
            return ToolCallRecord(tool: tool, input: input, result: search(input))
        }
    }
}
