import Foundation

/// Everything that can go wrong reading or writing role data, each case naming the file and,
/// for a bad row, its 1-based line number and what is wrong with it.
public enum RoleDataError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The file could not be opened or read.
    case unreadableFile(path: String, reason: String)
    /// The file could not be created or written.
    case unwritableFile(path: String, reason: String)
    /// Line `line` (1-based, counting blank lines) of `file` is not a valid row.
    case malformedRow(file: String, line: Int, problem: RowProblem)

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            return "cannot read role data file '\(path)': \(reason)"
        case .unwritableFile(let path, let reason):
            return "cannot write role data file '\(path)': \(reason)"
        case .malformedRow(let file, let line, let problem):
            return "\(file):\(line): \(problem)"
        }
    }

    public var errorDescription: String? { description }
}

/// What is wrong with one JSONL row.
public enum RowProblem: Sendable, Equatable, CustomStringConvertible {
    /// The line is not valid UTF-8.
    case invalidUTF8
    /// The line is not valid JSON; `detail` is the JSON parser's message.
    case invalidJSON(detail: String)
    /// The line is valid JSON but not an object (`found` names what it is, e.g. "array").
    case notAnObject(found: String)
    /// A required field is absent (or `null`).
    case missingField(String)
    /// A required field is an empty (or all-whitespace) string.
    case emptyField(String)
    /// A known field holds a value of the wrong JSON type.
    case wrongType(field: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .invalidUTF8:
            return "line is not valid UTF-8"
        case .invalidJSON(let detail):
            return "not valid JSON (\(detail))"
        case .notAnObject(let found):
            return "expected a JSON object, found \(found)"
        case .missingField(let field):
            return "required field '\(field)' is missing"
        case .emptyField(let field):
            return "required field '\(field)' is empty"
        case .wrongType(let field, let expected, let found):
            return "field '\(field)' must be \(expected), found \(found)"
        }
    }
}
