// Provenance: must match llama.cpp src/llama-vocab.cpp `token_to_piece` (per-type rendering:
// special tokens verbatim, normal BPE tokens through the GPT-2 byte map with `[UNK_BYTE_0x…]`
// for unmappable characters, normal SPM tokens with "▁" → " ", byte tokens as their byte,
// other types empty) and `detokenize` (first-piece space strip, `clean_spaces` passes).

/// The bytes each token renders to, computed once (llama.cpp's `cache_token_to_piece`).
struct TokenPieces: Sendable {
    private let bytes: [UInt8]
    private let offsets: [Int]

    enum Style {
        case byteLevel
        case sentencePiece
    }

    init(vocabulary: Vocabulary, attributes: [TokenAttributes], style: Style) {
        var bytes: [UInt8] = []
        var offsets: [Int] = [0]
        offsets.reserveCapacity(vocabulary.count + 1)
        for id in 0..<vocabulary.count {
            Self.render(vocabulary.tokenBytes[id], attributes[id], style, into: &bytes)
            offsets.append(bytes.count)
        }
        self.bytes = bytes
        self.offsets = offsets
    }

    var count: Int { offsets.count - 1 }

    func piece(_ id: Int32) -> ArraySlice<UInt8> {
        guard id >= 0, Int(id) < count else { return [] }
        return bytes[offsets[Int(id)] ..< offsets[Int(id) + 1]]
    }

    private static func render(
        _ text: [UInt8], _ attributes: TokenAttributes, _ style: Style, into out: inout [UInt8]
    ) {
        if !attributes.isDisjoint(with: [.control, .unknown, .userDefined]) {
            out.append(contentsOf: text)
        } else if attributes.contains(.normal) {
            switch style {
            case .byteLevel: appendByteLevelDecoded(text, into: &out)
            case .sentencePiece: appendUnescaped(text, into: &out)
            }
        } else if attributes.contains(.byte) {
            out.append(byteValue(of: text))
        }
        // unused / undefined tokens render as nothing
    }

    /// Maps each character back to the byte it stands for.
    private static func appendByteLevelDecoded(_ text: [UInt8], into out: inout [UInt8]) {
        var scalars: [UInt32] = []
        var starts: [Int32] = []
        text.withUnsafeBufferPointer { UTF8Coding.decode($0, scalars: &scalars, starts: &starts) }
        for (i, scalar) in scalars.enumerated() {
            if let byte = ByteLevelMapping.byte(for: scalar) {
                out.append(byte)
            } else {
                out.append(contentsOf: Array("[UNK_BYTE_0x".utf8))
                for byte in text[Int(starts[i]) ..< Int(starts[i + 1])] {
                    let hex = String(byte, radix: 16)
                    out.append(contentsOf: Array(((byte < 16 ? "0" : "") + hex).utf8))
                }
                out.append(contentsOf: text)
                out.append(UInt8(ascii: "]"))
            }
        }
    }

    /// "▁" → " ".
    private static func appendUnescaped(_ text: [UInt8], into out: inout [UInt8]) {
        let marker = SentencePieceModel.spaceMarker
        var i = 0
        while i < text.count {
            if i + 3 <= text.count && text[i] == marker[0] && text[i + 1] == marker[1] && text[i + 2] == marker[2] {
                out.append(0x20)
                i += 3
            } else {
                out.append(text[i])
                i += 1
            }
        }
    }

    /// The byte of a `<0xXX>` token: the hex digits at offsets 3…4, read as `strtol` would.
    static func byteValue(of text: [UInt8]) -> UInt8 {
        var value = 0
        for byte in text.dropFirst(3).prefix(2) {
            guard let digit = Int(String(UnicodeScalar(byte)), radix: 16) else { break }
            value = value * 16 + digit
        }
        return UInt8(value)
    }
}

/// llama.cpp's `clean_spaces` passes (Hugging Face's `clean_up_tokenization_spaces`), for
/// BPE vocabularies whose pre-tokenizer asks for them.
enum SpaceCleanup {
    static func apply(_ text: [UInt8]) -> [UInt8] {
        guard text.count > 1 else { return text }
        let space = UInt8(ascii: " ")
        let apostrophe = UInt8(ascii: "'")

        // 1: drop the space in " ?", " !", " .", " ,".
        var first: [UInt8] = [text[0]]
        for i in 1..<text.count {
            let x = text[i]
            if text[i - 1] == space && [UInt8(ascii: "?"), UInt8(ascii: "!"), UInt8(ascii: "."), UInt8(ascii: ",")].contains(x) {
                first.removeLast()
            }
            first.append(x)
        }

        // 2: " ' " → "'" (drops both spaces; the dropped second space reads as NUL when the next
        // character looks back at it, as in llama.cpp's in-place loop).
        var source = first
        var second: [UInt8] = [source[0]]
        var i = 1
        while i < source.count {
            let x = source[i]
            if x == apostrophe && i + 1 < source.count && source[i - 1] == space && source[i + 1] == space {
                second.removeLast()
                source[i + 1] = 0
                i += 1
            }
            second.append(x)
            i += 1
        }

        // 3: " 's", " 'm", " 're", " 've" lose their space.
        var third: [UInt8] = [second[0]]
        for i in 1..<second.count {
            let x = second[i]
            if second[i - 1] == space && x == apostrophe && i + 1 < second.count {
                let x1 = second[i + 1]
                if x1 == UInt8(ascii: "s") || x1 == UInt8(ascii: "m") {
                    third.removeLast()
                } else if i + 2 < second.count {
                    let x2 = second[i + 2]
                    if (x1 == UInt8(ascii: "r") || x1 == UInt8(ascii: "v")) && x2 == UInt8(ascii: "e") {
                        third.removeLast()
                    }
                }
            }
            third.append(x)
        }
        return third
    }
}
