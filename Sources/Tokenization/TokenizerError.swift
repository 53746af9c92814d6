// Provenance: the conditions mirror the load-time checks of llama.cpp src/llama-vocab.cpp
// (llama_vocab::impl::load), reported as typed errors instead of exceptions or asserts.

/// Inconsistent or unsupported tokenizer data. Each case names what is wrong.
public enum TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A required metadata key is absent or has the wrong type.
    case missingMetadata(key: String)
    /// `tokenizer.ggml.model` names a tokenizer this engine does not implement.
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this engine does not implement.
    case unknownPreTokenizer(String)
    /// A per-token array's length differs from the token count.
    case arrayLengthMismatch(key: String, expected: Int, actual: Int)
    /// The vocabulary has no tokens.
    case emptyVocabulary
    /// Two tokens have the same text (llama.cpp asserts on this).
    case duplicateToken(text: String, firstID: Int32, secondID: Int32)
    /// A merge rule is not of the form "left right".
    case malformedMerge(index: Int, rule: String)
    /// A merge rule names a piece that is neither a token nor produced by an earlier-listed rule.
    case mergeReferencesUnknownToken(index: Int, rule: String, piece: String)
    /// A special-token id (bos, eos, …) lies outside the vocabulary.
    case specialTokenOutOfRange(role: String, id: Int64, vocabularySize: Int)
    /// The vocabulary is too large for 32-bit token ids.
    case vocabularyTooLarge(Int)

    public var description: String {
        switch self {
        case .missingMetadata(let key):
            "tokenizer metadata '\(key)' is missing or has the wrong type"
        case .unsupportedModel(let name):
            "unsupported tokenizer model '\(name)' (supported: gpt2, llama)"
        case .unknownPreTokenizer(let name):
            "unknown pre-tokenizer '\(name)' (supported: \(PreTokenizerKind.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .arrayLengthMismatch(let key, let expected, let actual):
            "'\(key)' has \(actual) entries but the vocabulary has \(expected) tokens"
        case .emptyVocabulary:
            "the vocabulary has no tokens"
        case .duplicateToken(let text, let first, let second):
            "tokens \(first) and \(second) have the same text \(String(reflecting: text))"
        case .malformedMerge(let index, let rule):
            "merge \(index) \(String(reflecting: rule)) is not of the form 'left right'"
        case .mergeReferencesUnknownToken(let index, let rule, let piece):
            "merge \(index) \(String(reflecting: rule)) references \(String(reflecting: piece)), which is not a token"
        case .specialTokenOutOfRange(let role, let id, let size):
            "\(role) token id \(id) is outside the vocabulary (size \(size))"
        case .vocabularyTooLarge(let count):
            "vocabulary of \(count) tokens exceeds the 32-bit token id range"
        }
    }
}
