// Provenance: token types are GGUF `tokenizer.ggml.token_type` values; the attribute mapping
// must match llama.cpp src/llama-vocab.cpp (llama_vocab::impl::load, `toktypes` → `attr`).

/// A token's type as stored in GGUF `tokenizer.ggml.token_type`.
public enum TokenType: Int32, Sendable, CaseIterable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    case byte = 6

    /// The type for a raw GGUF value; values outside the known range are `.undefined`, as
    /// llama.cpp treats them.
    public init(gguf raw: Int32) {
        self = TokenType(rawValue: raw) ?? .undefined
    }
}

/// Per-token behaviour flags, derived from the token type and from llama.cpp's by-text
/// heuristics (a token that looks like an end-of-turn marker is treated as control).
struct TokenAttributes: OptionSet, Sendable, Hashable {
    let rawValue: UInt8

    static let undefined = TokenAttributes(rawValue: 1 << 0)
    static let unknown = TokenAttributes(rawValue: 1 << 1)
    static let unused = TokenAttributes(rawValue: 1 << 2)
    static let normal = TokenAttributes(rawValue: 1 << 3)
    static let control = TokenAttributes(rawValue: 1 << 4)
    static let userDefined = TokenAttributes(rawValue: 1 << 5)
    static let byte = TokenAttributes(rawValue: 1 << 6)

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(_ type: TokenType) {
        switch type {
        case .undefined: self = .undefined
        case .normal: self = .normal
        case .unknown: self = .unknown
        case .control: self = .control
        case .userDefined: self = .userDefined
        case .unused: self = .unused
        case .byte: self = .byte
        }
    }

    /// Tokens matched verbatim in input text before pre-tokenization.
    var isSpecial: Bool { !isDisjoint(with: [.control, .userDefined, .unknown]) }
}
