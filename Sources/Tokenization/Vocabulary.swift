// Provenance: mirrors the token table llama.cpp builds in src/llama-vocab.cpp
// (llama_vocab::impl::load: `id_to_token`, `token_to_id`), including its empty-token renaming.

/// The token table of a model: text, score and type per token id.
public struct Vocabulary: Sendable {
    /// Token texts, indexed by id. For byte-level BPE these are in GPT-2's byte-to-character
    /// form; for SentencePiece spaces appear as "▁" (U+2581).
    public let tokens: [String]
    /// Merge priorities for SentencePiece (higher merges first); zero when absent.
    public let scores: [Float]
    public let types: [TokenType]

    let table: ByteStringTable
    let tokenBytes: [[UInt8]]

    /// - Parameters:
    ///   - tokens: token texts by id. An empty text is renamed `[EMPTY_<id>]`, as llama.cpp does.
    ///   - scores: one per token, or nil for all zero.
    ///   - types: one per token, or nil for all `.normal`.
    /// - Throws: ``TokenizerError`` for an empty vocabulary, mismatched array lengths or
    ///   duplicate token texts.
    public init(tokens: [String], scores: [Float]? = nil, types: [TokenType]? = nil) throws(TokenizerError) {
        guard !tokens.isEmpty else { throw .emptyVocabulary }
        guard tokens.count <= Int(Int32.max) else { throw .vocabularyTooLarge(tokens.count) }
        if let scores, scores.count != tokens.count {
            throw .arrayLengthMismatch(key: "scores", expected: tokens.count, actual: scores.count)
        }
        if let types, types.count != tokens.count {
            throw .arrayLengthMismatch(key: "token_type", expected: tokens.count, actual: types.count)
        }
        let texts = tokens.enumerated().map { $1.isEmpty ? "[EMPTY_\($0)]" : $1 }
        let bytes = texts.map { Array($0.utf8) }
        switch ByteStringTable.build(bytes) {
        case .success(let table):
            self.table = table
        case .failure(let duplicate):
            throw .duplicateToken(
                text: texts[duplicate.first], firstID: Int32(duplicate.first), secondID: Int32(duplicate.second))
        }
        self.tokens = texts
        self.tokenBytes = bytes
        self.scores = scores ?? [Float](repeating: 0, count: tokens.count)
        self.types = types ?? [TokenType](repeating: .normal, count: tokens.count)
    }

    public var count: Int { tokens.count }

    /// The id of the token whose text is exactly `text`.
    public func id(of text: String) -> Int32? {
        var text = text
        return text.withUTF8 { table.id(of: $0) }
    }

    func id(ofBytes bytes: UnsafeBufferPointer<UInt8>) -> Int32? { table.id(of: bytes) }

    /// Whether `id` is a valid token id.
    public func contains(_ id: Int32) -> Bool { id >= 0 && Int(id) < tokens.count }
}
