// Typed errors of agent-graph files and graphs: each names the file and the node, edge, slot or
// key at fault, so a user can fix the system file without reading code.

/// Why a system file or an agent graph was refused.
public enum GraphError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read or is not JSON of the expected shape (`detail` names the key path).
    case unreadable(file: String, detail: String)
    /// A key the format does not know, with its path and the nearest valid key.
    case unknownKey(file: String, path: String, key: String, suggestion: String?)
    /// A structural problem: `place` is "node 'x'", "edge 'a' → 'b'", "schedule" or "defaults".
    case invalid(file: String, place: String, problem: String)
    /// A link whose widths do not join the models it connects.
    case widthMismatch(file: String, place: String, detail: String)
    /// A link checkpoint trained with another model file than the one the node runs.
    case foreignCheckpoint(file: String, place: String, detail: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let detail): "\(file): \(detail)"
        case .unknownKey(let file, let path, let key, let suggestion):
            "\(file): unknown key \"\(key)\"" + (path.isEmpty ? "" : " in \(path)")
                + (suggestion.map { " (did you mean \"\($0)\"?)" } ?? "")
        case .invalid(let file, let place, let problem): "\(file): \(place): \(problem)"
        case .widthMismatch(let file, let place, let detail): "\(file): \(place): \(detail)"
        case .foreignCheckpoint(let file, let place, let detail): "\(file): \(place): \(detail)"
        }
    }
}
