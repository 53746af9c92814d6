import Tokenization

/// Small hand-built vocabularies for tests that need no model file.
enum TestVocabularies {
    /// GPT-2's byte-to-character table, written out independently of the library's.
    static let gpt2ByteCharacters: [Character] = {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var scalars = printable
        var extra = 0
        for byte in 0..<256 where !printable.contains(byte) {
            printable.append(byte)
            scalars.append(256 + extra)
            extra += 1
        }
        var table = [Character](repeating: " ", count: 256)
        for (byte, scalar) in zip(printable, scalars) {
            table[byte] = Character(Unicode.Scalar(UInt32(scalar)) ?? "?")
        }
        return table
    }()

    /// `text` in GPT-2's byte-level spelling (how BPE vocabularies store tokens).
    static func byteLevel(_ text: String) -> String {
        String(text.utf8.map { gpt2ByteCharacters[Int($0)] })
    }

    /// A byte-level BPE tokenizer: the 256 byte tokens, then `extra` tokens (plain text, written
    /// here in byte-level form), then `special` tokens typed `.control`.
    static func bytePair(
        merges: [(String, String)], extra: [String] = [], special: [String] = [], userDefined: [String] = [],
        preTokenizer: PreTokenizerKind = .qwen2
    ) throws -> Tokenizer {
        var tokens = gpt2ByteCharacters.map { String($0) }
        tokens += extra.map(byteLevel)
        var types = [TokenType](repeating: .normal, count: tokens.count)
        tokens += special
        types += special.map { _ in .control }
        tokens += userDefined
        types += userDefined.map { _ in .userDefined }
        let vocabulary = try Vocabulary(tokens: tokens, types: types)
        let rules = merges.map { byteLevel($0.0) + " " + byteLevel($0.1) }
        return try Tokenizer(vocabulary: vocabulary, model: .bytePairEncoding(merges: rules, preTokenizer: preTokenizer))
    }

    /// A SentencePiece tokenizer: `<unk>` 0, `<s>` 1, `</s>` 2, byte tokens `<0x00>`… at 3…258,
    /// then `pieces` with their scores ("▁" stands for a space).
    static func sentencePiece(
        pieces: [(String, Float)], control: [String] = [], addSpacePrefix: Bool = false
    ) throws -> Tokenizer {
        var tokens = ["<unk>", "<s>", "</s>"]
        var types: [TokenType] = [.unknown, .control, .control]
        for byte in 0..<256 {
            let hex = String(byte, radix: 16, uppercase: true)
            tokens.append("<0x" + (byte < 16 ? "0" : "") + hex + ">")
            types.append(.byte)
        }
        var scores = [Float](repeating: 0, count: tokens.count)
        for (piece, score) in pieces {
            tokens.append(piece)
            types.append(.normal)
            scores.append(score)
        }
        for text in control {
            tokens.append(text)
            types.append(.control)
            scores.append(0)
        }
        let vocabulary = try Vocabulary(tokens: tokens, scores: scores, types: types)
        return try Tokenizer(
            vocabulary: vocabulary, model: .sentencePiece(addSpacePrefix: addSpacePrefix),
            specialTokens: SpecialTokenIDs(bos: 1, eos: 2, unknown: 0), addBOSByDefault: true)
    }

    /// Ids → token texts.
    static func texts(_ ids: [Int32], _ tokenizer: Tokenizer) -> [String] {
        ids.map { tokenizer.vocabulary.contains($0) ? tokenizer.vocabulary.tokens[Int($0)] : "?" }
    }
}
