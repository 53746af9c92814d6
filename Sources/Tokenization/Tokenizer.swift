// Provenance: must match llama.cpp src/llama-vocab.cpp `llama_vocab::impl::tokenize` (special-
// token partitioning, then per-fragment BPE or SPM, SPM's space prefix after special tokens)
// and `detokenize`, for the vocabulary types "gpt2" (byte-level BPE) and "llama" (SentencePiece),
// as vendored by llama-cpp-python 0.3.36 (the version the goldens come from).

/// How a vocabulary turns text into tokens.
public enum TokenizerModel: Sendable {
    /// Byte-level BPE (GGUF `tokenizer.ggml.model` = "gpt2"): merge rules "left right" in
    /// priority order, and the pre-tokenizer that splits text into words first. llama.cpp reads
    /// `add_space_prefix` for these vocabularies too but uses it only when decoding (one leading
    /// space of the first piece is dropped).
    case bytePairEncoding(merges: [String], preTokenizer: PreTokenizerKind, addSpacePrefix: Bool = false)
    /// SentencePiece BPE by score (GGUF "llama"), with `<0xXX>` byte fallback; when
    /// `addSpacePrefix`, a space is prepended to text at the start and after special tokens.
    case sentencePiece(addSpacePrefix: Bool)
}

/// Converts text to token ids and back, matching llama.cpp token for token.
///
/// Immutable after construction; `encode` and `decode` may be called from any thread at once.
/// Building one for a 150k-token vocabulary takes a few tenths of a second, so keep it with the
/// model rather than rebuilding it per request.
public final class Tokenizer: Sendable {
    public let vocabulary: Vocabulary
    public let specialTokens: SpecialTokenIDs
    /// Whether prompts for this model start with BOS (GGUF `tokenizer.ggml.add_bos_token`).
    /// ``encode(_:addBOS:parseSpecial:)`` adds BOS only when asked; pass this to follow the model.
    public let addBOSByDefault: Bool
    /// Tokens that end a chat turn, such as `<|im_end|>` or `<end_of_turn>`: the metadata EOT id
    /// and every token whose text llama.cpp accepts as an EOT marker (`<|endoftext|>` included).
    public let endOfTurnIDs: Set<Int32>
    /// Tokens that end generation (llama.cpp's `llama_vocab_is_eog`).
    public let endOfGenerationIDs: Set<Int32>

    let attributes: [TokenAttributes]
    let engine: Engine
    let matcher: SpecialTokenMatcher
    let pieces: TokenPieces
    /// Whether decoding drops one leading space from the first piece (and, for SentencePiece,
    /// whether encoding adds one).
    let addSpacePrefix: Bool
    /// Whether ``decode(_:renderSpecial:)`` applies llama.cpp's `clean_spaces` pass (the
    /// `gpt-2` and `default` pre-tokenizers); ``StreamingDecoder`` does not.
    public let cleansSpacesWhenDecoding: Bool

    enum Engine: Sendable {
        case bytePair(BytePairModel, PreTokenizerKind)
        case sentencePiece(SentencePieceModel)
    }

    /// - Throws: ``TokenizerError`` when the merges or special ids do not fit the vocabulary.
    public init(
        vocabulary: Vocabulary, model: TokenizerModel, specialTokens: SpecialTokenIDs = SpecialTokenIDs(),
        addBOSByDefault: Bool = false
    ) throws(TokenizerError) {
        try specialTokens.validate(vocabularySize: vocabulary.count)
        var attributes = vocabulary.types.map(TokenAttributes.init)
        let roles = DerivedTokenRoles(vocabulary: vocabulary, attributes: &attributes, ids: specialTokens)
        switch model {
        case .bytePairEncoding(let merges, let preTokenizer, let addSpacePrefix):
            engine = .bytePair(try BytePairModel(merges: merges, vocabulary: vocabulary), preTokenizer)
            self.addSpacePrefix = addSpacePrefix
            cleansSpacesWhenDecoding = preTokenizer.cleansSpaces
            pieces = TokenPieces(vocabulary: vocabulary, attributes: attributes, style: .byteLevel)
        case .sentencePiece(let addSpacePrefix):
            engine = .sentencePiece(
                SentencePieceModel(
                    vocabulary: vocabulary, addSpacePrefix: addSpacePrefix, unknownID: specialTokens.unknown))
            self.addSpacePrefix = addSpacePrefix
            cleansSpacesWhenDecoding = false
            pieces = TokenPieces(vocabulary: vocabulary, attributes: attributes, style: .sentencePiece)
        }
        self.vocabulary = vocabulary
        self.specialTokens = specialTokens
        self.addBOSByDefault = addBOSByDefault
        self.attributes = attributes
        self.endOfTurnIDs = roles.endOfTurn
        self.endOfGenerationIDs = roles.endOfGeneration
        self.matcher = SpecialTokenMatcher(vocabulary: vocabulary, attributes: attributes)
    }

    public var vocabularySize: Int { vocabulary.count }
    public var bosID: Int32? { specialTokens.bos }
    public var eosID: Int32? { specialTokens.eos }

    public func isEndOfGeneration(_ id: Int32) -> Bool { endOfGenerationIDs.contains(id) }

    /// Whether `id` is matched in text as a special token (control, user-defined or unknown).
    public func isSpecial(_ id: Int32) -> Bool {
        vocabulary.contains(id) && attributes[Int(id)].isSpecial
    }

    // MARK: - Encoding

    /// Token ids for `text`.
    /// - Parameters:
    ///   - addBOS: prepend the BOS token (when the vocabulary has one).
    ///   - parseSpecial: recognise control tokens written in the text (e.g. `<|im_start|>`);
    ///     user-defined tokens are always recognised, as in llama.cpp.
    ///   - literal: UTF-8 byte ranges of `text` read as with `parseSpecial: false` whatever
    ///     `parseSpecial` says (see ``encode(_:addBOS:)``).
    public func encode(_ text: String, addBOS: Bool = false, parseSpecial: Bool = true, literal: [Range<Int>] = []) -> [Int32] {
        var output: [Int32] = []
        if addBOS, let bos = specialTokens.bos { output.append(bos) }
        var text = text
        text.withUTF8 { bytes in
            let fragments = matcher.partition(bytes, parseSpecial: parseSpecial, literal: literal)
            switch engine {
            case .bytePair(let model, let preTokenizer):
                encodeBytePair(bytes, fragments, model, preTokenizer, &output)
            case .sentencePiece(let model):
                encodeSentencePiece(bytes, fragments, model, &output)
            }
        }
        return output
    }

    /// Token ids for a rendered chat prompt: control tokens in its template text, none in its
    /// message content (``RenderedPrompt``).
    public func encode(_ prompt: RenderedPrompt, addBOS: Bool) -> [Int32] {
        encode(prompt.text, addBOS: addBOS, parseSpecial: true, literal: prompt.contentRanges)
    }

    private func encodeBytePair(
        _ bytes: UnsafeBufferPointer<UInt8>, _ fragments: [Fragment], _ model: BytePairModel,
        _ preTokenizer: PreTokenizerKind, _ output: inout [Int32]
    ) {
        var scalars: [UInt32] = []
        var starts: [Int32] = []
        var input = SplitInput()
        var scratch = BytePairScratch()
        for fragment in fragments {
            switch fragment {
            case .token(let id):
                output.append(id)
            case .text(let range):
                let fragmentBytes = UnsafeBufferPointer(rebasing: bytes[range])
                UTF8Coding.decode(fragmentBytes, scalars: &scalars, starts: &starts)
                input.load(scalars)
                var first = 0
                for length in preTokenizer.split(input) {
                    let word = UnsafeBufferPointer(
                        rebasing: fragmentBytes[Int(starts[first]) ..< Int(starts[first + length])])
                    model.encodeWord(word, vocabulary: vocabulary, scratch: &scratch, output: &output)
                    first += length
                }
            }
        }
    }

    private func encodeSentencePiece(
        _ bytes: UnsafeBufferPointer<UInt8>, _ fragments: [Fragment], _ model: SentencePieceModel,
        _ output: inout [Int32]
    ) {
        var scratch = SentencePieceScratch()
        var previousWasSpecial = true  // so the text start gets the space prefix
        for fragment in fragments {
            switch fragment {
            case .token(let id):
                output.append(id)
                previousWasSpecial = true
            case .text(let range):
                SentencePieceModel.escape(
                    UnsafeBufferPointer(rebasing: bytes[range]),
                    prefixSpace: model.addSpacePrefix && previousWasSpecial, into: &scratch.escaped)
                model.encodeEscaped(vocabulary: vocabulary, scratch: &scratch, output: &output)
                previousWasSpecial = false
            }
        }
    }

    // MARK: - Decoding

    /// The bytes token `id` renders to (special tokens as their text); empty for an id
    /// outside the vocabulary. A piece may be part of a multi-byte character.
    public func pieceBytes(_ id: Int32) -> [UInt8] { Array(pieces.piece(id)) }

    /// The text of `ids`, as llama.cpp's `llama_detokenize` (keeping special tokens) gives it.
    /// Invalid UTF-8 (e.g. a character cut between byte tokens) becomes U+FFFD; ids outside the
    /// vocabulary are skipped.
    /// - Parameter renderSpecial: include the text of control and unknown tokens.
    public func decode(_ ids: [Int32], renderSpecial: Bool = true) -> String {
        String(decoding: decodeBytes(ids, renderSpecial: renderSpecial), as: UTF8.self)
    }

    /// The raw bytes of ``decode(_:renderSpecial:)``.
    public func decodeBytes(_ ids: [Int32], renderSpecial: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        var stripLeadingSpace = addSpacePrefix
        for id in ids {
            appendPiece(id, renderSpecial: renderSpecial, stripLeadingSpace: stripLeadingSpace, to: &bytes)
            stripLeadingSpace = false
        }
        return cleansSpacesWhenDecoding ? SpaceCleanup.apply(bytes) : bytes
    }

    func appendPiece(_ id: Int32, renderSpecial: Bool, stripLeadingSpace: Bool, to bytes: inout [UInt8]) {
        guard vocabulary.contains(id) else { return }
        if !renderSpecial && !attributes[Int(id)].isDisjoint(with: [.control, .unknown]) { return }
        var piece = pieces.piece(id)
        if stripLeadingSpace && piece.first == UInt8(ascii: " ") { piece = piece.dropFirst() }
        bytes.append(contentsOf: piece)
    }
}
