// Provenance: must match llama.cpp src/llama-vocab.cpp llama_vocab::impl::load — the
// "auto-detect special tokens by text" heuristics (EOT, EOM, FIM pad/repo/sep; promotion of
// such tokens to control) and the end-of-generation set `special_eog_ids`.

/// Ids of tokens with a fixed role, as given by model metadata.
public struct SpecialTokenIDs: Sendable, Equatable {
    public var bos: Int32?
    public var eos: Int32?
    /// End of turn (GGUF `tokenizer.ggml.eot_token_id`); when nil it is detected by text.
    public var eot: Int32?
    /// End of message (GGUF `tokenizer.ggml.eom_token_id`); when nil it is detected by text.
    public var eom: Int32?
    public var unknown: Int32?
    public var padding: Int32?
    public var separator: Int32?

    public init(
        bos: Int32? = nil, eos: Int32? = nil, eot: Int32? = nil, eom: Int32? = nil,
        unknown: Int32? = nil, padding: Int32? = nil, separator: Int32? = nil
    ) {
        self.bos = bos
        self.eos = eos
        self.eot = eot
        self.eom = eom
        self.unknown = unknown
        self.padding = padding
        self.separator = separator
    }

    func validate(vocabularySize: Int) throws(TokenizerError) {
        let roles: [(String, Int32?)] = [
            ("bos", bos), ("eos", eos), ("eot", eot), ("eom", eom), ("unknown", unknown),
            ("padding", padding), ("separator", separator),
        ]
        for case let (role, id?) in roles where id < 0 || Int(id) >= vocabularySize {
            throw .specialTokenOutOfRange(role: role, id: Int64(id), vocabularySize: vocabularySize)
        }
    }
}

/// Roles derived from token texts, the way llama.cpp fills in what metadata leaves out.
struct DerivedTokenRoles {
    static let endOfTurnTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
        "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ]
    static let endOfMessageTexts: Set<String> = ["<|eom_id|>"]
    static let fimPadTexts: Set<String> = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]
    static let fimRepoTexts: Set<String> = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]
    static let fimSeparatorTexts: Set<String> = ["<|file_sep|>"]
    static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ]

    /// Every token whose text marks the end of a turn, plus the metadata EOT id.
    private(set) var endOfTurn: Set<Int32> = []
    /// llama.cpp's end-of-generation set.
    private(set) var endOfGeneration: Set<Int32> = []

    /// Derives the roles and applies llama.cpp's attribute changes to `attributes`: tokens
    /// detected as EOT/EOM/FIM or end-of-generation by text become control tokens (and so are
    /// matched as special tokens in input text).
    init(vocabulary: Vocabulary, attributes: inout [TokenAttributes], ids: SpecialTokenIDs) {
        func promote(_ id: Int32) { attributes[Int(id)].insert(.control) }
        // Token texts are compared byte for byte (String equality would also accept
        // canonically equivalent spellings). llama.cpp takes the first match in hash-map
        // order; the lowest id is used here.
        func bytes(_ texts: Set<String>) -> Set<[UInt8]> { Set(texts.map { Array($0.utf8) }) }
        func firstID(_ texts: Set<String>) -> Int32? {
            let wanted = bytes(texts)
            return vocabulary.tokenBytes.firstIndex(where: wanted.contains).map { Int32($0) }
        }
        let endOfTurnBytes = bytes(Self.endOfTurnTexts)
        let endOfGenerationBytes = bytes(Self.endOfGenerationTexts)
        let renderedAsText = bytes(["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"])
        var eot = ids.eot
        var eom = ids.eom
        if eot == nil, let found = firstID(Self.endOfTurnTexts) {
            eot = found
            promote(found)
        }
        if eom == nil, let found = firstID(Self.endOfMessageTexts) {
            eom = found
            promote(found)
        }
        for texts in [Self.fimPadTexts, Self.fimRepoTexts, Self.fimSeparatorTexts] {
            if let found = firstID(texts) {
                endOfGeneration.insert(found)
                promote(found)
            }
        }
        for (index, text) in vocabulary.tokenBytes.enumerated() {
            let id = Int32(index)
            if endOfTurnBytes.contains(text) { endOfTurn.insert(id) }
            if endOfGenerationBytes.contains(text) {
                endOfGeneration.insert(id)
                promote(id)
            }
        }
        // gpt-oss: these are rendered as ordinary text.
        for (index, text) in vocabulary.tokenBytes.enumerated() where renderedAsText.contains(text) {
            attributes[index] = .userDefined
        }
        if let eot { endOfTurn.insert(eot) }
        for id in [ids.eos, eot, eom].compactMap({ $0 }) { endOfGeneration.insert(id) }

        // gpt-oss / solar-open: "<|end|>" ends a message, not generation, when the vocabulary
        // has the tokens that do.
        func eogID(_ text: String) -> Int32? {
            let wanted = Array(text.utf8)
            return endOfGeneration.first { vocabulary.tokenBytes[Int($0)] == wanted }
        }
        let hasCall = eogID("<|call|>") != nil || eogID("<|calls|>") != nil
        if hasCall && (eogID("<|return|>") != nil || eogID("<|flush|>") != nil), let end = eogID("<|end|>") {
            endOfGeneration.remove(end)
            attributes[Int(end)] = .userDefined
        }
        // Gemma 4 / PLaMo 2: "</s>" is an ordinary token there.
        if eogID("<|tool_response>") != nil || eogID("<|plamo:eos|>") != nil, let s = eogID("</s>") {
            endOfGeneration.remove(s)
            attributes[Int(s)] = .normal
        }
    }
}
