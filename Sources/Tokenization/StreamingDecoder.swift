// Provenance: token pieces as llama.cpp `token_to_piece` renders them (see TokenPieces.swift);
// the buffering of incomplete UTF-8 follows the well-formed byte sequences of Unicode
// Table 3-7, so output never contains a character split across tokens.

/// Turns generated token ids into text incrementally, emitting only complete UTF-8.
///
/// Bytes that may still become a character are held back until the next token completes them;
/// bytes that can never be part of a valid character are emitted as U+FFFD right away.
/// Unlike ``Tokenizer/decode(_:renderSpecial:)`` it does not apply the `clean_spaces` pass of
/// the `gpt-2`/`default` pre-tokenizers (SmolLM, Qwen and Gemma vocabularies do not use it).
public struct StreamingDecoder: Sendable {
    public let tokenizer: Tokenizer
    public let renderSpecial: Bool
    private var pending: [UInt8] = []
    private var atStart = true

    public init(tokenizer: Tokenizer, renderSpecial: Bool = true) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
    }

    /// Adds one token; returns the text that is now complete (possibly empty).
    public mutating func append(_ id: Int32) -> String {
        tokenizer.appendPiece(id, renderSpecial: renderSpecial, stripLeadingSpace: atStart && tokenizer.addSpacePrefix, to: &pending)
        atStart = false
        let complete = pending.count - Self.incompleteSuffixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Adds several tokens; returns the text that is now complete.
    public mutating func append(contentsOf ids: some Sequence<Int32>) -> String {
        var text = ""
        for id in ids { text += append(id) }
        return text
    }

    /// Emits whatever is held back (an unfinished character becomes U+FFFD) and resets.
    public mutating func flush() -> String {
        defer {
            pending.removeAll()
            atStart = true
        }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Whether bytes are being held back waiting for the rest of a character.
    public var hasPendingBytes: Bool { !pending.isEmpty }

    /// Length of the longest suffix of `bytes` that is a proper prefix of a well-formed UTF-8
    /// sequence (0…3 bytes), i.e. what must wait for more bytes.
    static func incompleteSuffixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        guard n > 0 else { return 0 }
        // A sequence is at most 4 bytes, so its lead byte is among the last 3.
        for back in 1...min(3, n) {
            let lead = bytes[n - back]
            if lead & 0xC0 == 0x80 { continue }  // continuation byte: look further back
            let needed: Int
            switch lead {
            case 0xC2...0xDF: needed = 2
            case 0xE0...0xEF: needed = 3
            case 0xF0...0xF4: needed = 4
            default: return 0  // ASCII or a byte that never starts a sequence
            }
            guard back < needed else { return 0 }  // sequence already complete
            // The byte after the lead has a narrower range for some leads.
            if back >= 2 {
                let second = bytes[n - back + 1]
                let valid: ClosedRange<UInt8> =
                    switch lead {
                    case 0xE0: 0xA0...0xBF
                    case 0xED: 0x80...0x9F
                    case 0xF0: 0x90...0xBF
                    case 0xF4: 0x80...0x8F
                    default: 0x80...0xBF
                    }
                guard valid.contains(second) else { return 0 }
            }
            return back
        }
        return 0
    }
}
