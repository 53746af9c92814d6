// Provenance: keys and defaults as llama.cpp src/llama-vocab.cpp llama_vocab::impl::load reads
// them (LLM_KV_TOKENIZER_* in src/llama-arch.cpp; note GGUF's "seperator" spelling).
import GGUF
import Tokenization

extension Tokenizer {
    /// Builds the tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata.
    public convenience init(gguf file: GGUFFile) throws(TokenizerError) {
        try self.init(metadata: file.metadata)
    }

    /// Builds the tokenizer described by `tokenizer.ggml.*` metadata.
    ///
    /// Supports `tokenizer.ggml.model` "gpt2" (byte-level BPE with one of the pre-tokenizers in
    /// ``PreTokenizerKind``) and "llama" (SentencePiece). As in llama.cpp, a "llama" vocabulary
    /// without explicit ids uses bos 1, eos 2, unknown 0, adds BOS and prefixes a space unless
    /// the metadata says otherwise; a missing `tokenizer.ggml.pre` means "default".
    public convenience init(metadata m: GGUFMetadata) throws(TokenizerError) {
        let prefix = "tokenizer.ggml."
        guard let modelName = m.string(prefix + "model") else { throw .missingMetadata(key: prefix + "model") }
        guard let tokens = m.stringArray(prefix + "tokens") else { throw .missingMetadata(key: prefix + "tokens") }

        var scores: [Float]?
        if m[prefix + "scores"] != nil {
            if let floats = m.floatArray(prefix + "scores") {
                scores = floats
            } else if let ints = m.int32Array(prefix + "scores") {
                scores = ints.map(Float.init)
            } else {
                throw .missingMetadata(key: prefix + "scores")
            }
        }
        var types: [TokenType]?
        if m[prefix + "token_type"] != nil {
            guard let raw = m.int32Array(prefix + "token_type") else { throw .missingMetadata(key: prefix + "token_type") }
            types = raw.map(TokenType.init(gguf:))
        }
        let vocabulary = try Vocabulary(tokens: tokens, scores: scores, types: types)

        let isSentencePiece: Bool
        let model: TokenizerModel
        switch modelName {
        case "gpt2":
            isSentencePiece = false
            guard let merges = m.stringArray(prefix + "merges") else { throw .missingMetadata(key: prefix + "merges") }
            let pre = try PreTokenizerKind(ggufName: m.string(prefix + "pre"))
            let addSpacePrefix = try Self.bool(m, prefix + "add_space_prefix") ?? false
            model = .bytePairEncoding(merges: merges, preTokenizer: pre, addSpacePrefix: addSpacePrefix)
        case "llama":
            isSentencePiece = true
            model = .sentencePiece(addSpacePrefix: try Self.bool(m, prefix + "add_space_prefix") ?? true)
        default:
            throw .unsupportedModel(modelName)
        }

        func id(_ key: String, default fallback: Int32? = nil) throws(TokenizerError) -> Int32? {
            guard let value = m[prefix + key] else { return fallback }
            guard let id = value.integer else { throw .missingMetadata(key: prefix + key) }
            guard id >= 0, id < vocabulary.count else {
                throw .specialTokenOutOfRange(role: key, id: Int64(id), vocabularySize: vocabulary.count)
            }
            return Int32(id)
        }
        let special = SpecialTokenIDs(
            bos: try id("bos_token_id", default: isSentencePiece ? 1 : nil),
            eos: try id("eos_token_id", default: isSentencePiece ? 2 : nil),
            eot: try id("eot_token_id"),
            eom: try id("eom_token_id"),
            unknown: try id("unknown_token_id", default: isSentencePiece ? 0 : nil),
            padding: try id("padding_token_id"),
            separator: try id("seperator_token_id"))
        try self.init(
            vocabulary: vocabulary, model: model, specialTokens: special,
            addBOSByDefault: try Self.bool(m, prefix + "add_bos_token") ?? isSentencePiece)
    }

    private static func bool(_ m: GGUFMetadata, _ key: String) throws(TokenizerError) -> Bool? {
        guard m[key] != nil else { return nil }
        guard let value = m.bool(key) else { throw .missingMetadata(key: key) }
        return value
    }
}
