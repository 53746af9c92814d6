// The fixed tokenizers the tokenizer fuzz target drives: a byte-level BPE one shaped like
// Qwen2.5's (qwen2 pre-tokenizer, ChatML control tokens) and a SentencePiece one shaped like
// Gemma's (<0xXX> byte fallback, turn markers). Small, so each input runs fast; every merge result
// is itself a token, so encoding loses no byte and decode(encode(text)) must give text back.
// Written for this project.
import Tokenization

enum FuzzVocabularies {
    /// GPT-2's byte-to-character map: printable Latin-1 bytes stand for themselves, the other 68
    /// bytes for U+0100 onward in byte order.
    static let byteCharacters: [Character] = {
        func printable(_ byte: Int) -> Bool { (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) }
        var next: UInt32 = 0x100
        return (0..<256).map { byte in
            if printable(byte) { return Character(Unicode.Scalar(UInt8(byte))) }
            defer { next += 1 }
            return Character(Unicode.Scalar(next)!)
        }
    }()

    /// `text` as a byte-level BPE vocabulary spells it.
    static func byteLevel(_ text: String) -> String { String(text.utf8.map { byteCharacters[Int($0)] }) }

    static let chatMLControl = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    static let gemmaControl = ["<start_of_turn>", "<end_of_turn>"]

    /// Byte-level BPE: 256 byte tokens, one token per merge result, ChatML control tokens and a
    /// user-defined token (matched even without special parsing).
    static let bytePair: Tokenizer = {
        let merges: [(String, String)] = [
            (" ", "t"), ("h", "e"), (" t", "he"), ("i", "n"), (" ", "a"), (" a", "n"), (" an", "d"), ("e", "r"),
            ("l", "l"), ("\n", "\n"), (" ", " "), ("  ", "  "), ("\u{C3}", "\u{A9}"), ("'", "s"), ("o", "u"),
            ("y", "ou"), (" ", "you"), ("\u{E4}", "\u{BD}"), ("\u{E4}\u{BD}", "\u{A0}"),
        ]
        // Merge sides are byte strings: build them from UTF-8 bytes so that "\u{C3}" means the
        // byte 0xC3 (the first half of "é"), not the character Ã.
        func bytes(_ side: String) -> [UInt8] { side.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }
        func spelled(_ raw: [UInt8]) -> String { String(raw.map { byteCharacters[Int($0)] }) }
        var tokens = byteCharacters.map { String($0) }
        var rules: [String] = []
        for (left, right) in merges {
            let l = bytes(left), r = bytes(right)
            rules.append(spelled(l) + " " + spelled(r))
            let result = spelled(l + r)
            if !tokens.contains(result) { tokens.append(result) }
        }
        var types = [TokenType](repeating: .normal, count: tokens.count)
        tokens += chatMLControl + ["<think>"]
        types += chatMLControl.map { _ in .control } + [.userDefined]
        do {
            let vocabulary = try Vocabulary(tokens: tokens, types: types)
            return try Tokenizer(
                vocabulary: vocabulary, model: .bytePairEncoding(merges: rules, preTokenizer: .qwen2),
                specialTokens: SpecialTokenIDs(eos: vocabulary.id(of: "<|im_end|>")))
        } catch {
            fatalError("the fixed BPE vocabulary is inconsistent: \(error)")
        }
    }()

    /// SentencePiece: <unk> <s> </s>, byte tokens <0x00>…<0xFF>, scored pieces ("▁" is a space),
    /// Gemma's turn markers as control tokens and a user-defined token.
    static func sentencePiece(addSpacePrefix: Bool) -> Tokenizer {
        var tokens = ["<unk>", "<s>", "</s>"]
        var types: [TokenType] = [.unknown, .control, .control]
        for byte in 0..<256 {
            let hex = String(byte, radix: 16, uppercase: true)
            tokens.append("<0x" + (byte < 16 ? "0" : "") + hex + ">")
            types.append(.byte)
        }
        var scores = [Float](repeating: 0, count: tokens.count)
        let pieces: [(String, Float)] = [
            ("▁", -1), ("▁t", -2), ("he", -3), ("▁the", -1.5), ("▁th", -4), ("in", -5), ("▁a", -6),
            ("er", -7), ("é", -8), ("▁▁", -9), ("t", -10), ("h", -10), ("e", -10), ("a", -10),
            ("\n", -11), ("你", -12), ("你好", -12),
        ]
        for (piece, score) in pieces {
            tokens.append(piece)
            types.append(.normal)
            scores.append(score)
        }
        for text in gemmaControl + ["<mask>"] {
            tokens.append(text)
            types.append(text == "<mask>" ? .userDefined : .control)
            scores.append(0)
        }
        do {
            let vocabulary = try Vocabulary(tokens: tokens, scores: scores, types: types)
            return try Tokenizer(
                vocabulary: vocabulary, model: .sentencePiece(addSpacePrefix: addSpacePrefix),
                specialTokens: SpecialTokenIDs(bos: 1, eos: 2, unknown: 0), addBOSByDefault: true)
        } catch {
            fatalError("the fixed SentencePiece vocabulary is inconsistent: \(error)")
        }
    }

    static let sentencePiecePlain = sentencePiece(addSpacePrefix: false)
    static let sentencePieceSpaced = sentencePiece(addSpacePrefix: true)
}
