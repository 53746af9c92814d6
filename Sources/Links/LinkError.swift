// Provenance: the failures of RecursiveMAS train/model.py's `normalize_*_adapter_type`
// (unsupported type) and of torch's strict `load_state_dict` (missing/unexpected key, shape).

/// Everything that can go wrong when naming a link architecture or adopting stored parameters.
///
/// Widths and buffer sizes that the caller wires together are programmer errors and stay
/// `precondition`s; these cases cover what configuration files and checkpoints can contain.
public enum LinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `name` is neither a link type nor an alias; `known` lists the accepted spellings.
    case unknownKind(String, known: [String])
    /// The parameter set lacks `name` (prefix included).
    case missingParameter(String)
    /// The parameter set has `name` under the link's prefix, but the architecture has no such tensor.
    case unexpectedParameter(String)
    /// `parameter` has shape `found`; the architecture needs `expected`.
    case shapeMismatch(parameter: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .unknownKind(let name, let known):
            return "unknown link type '\(name)'; expected one of: \(known.joined(separator: ", "))"
        case .missingParameter(let name):
            return "parameter '\(name)' is missing; the link type or prefix may be wrong"
        case .unexpectedParameter(let name):
            return "parameter '\(name)' does not belong to this link type; the link type may be wrong"
        case .shapeMismatch(let parameter, let expected, let found):
            return "parameter '\(parameter)' has shape \(found), expected \(expected); check the widths"
        }
    }
}
