import Testing

@testable import Tokenization

/// Word splitting of the hand-written pre-tokenizers, on cases whose llama.cpp result follows
/// directly from its expressions (the goldens cover the rest).
@Suite("Pre-tokenizers")
struct PreTokenizerTests {
    func words(_ kind: PreTokenizerKind, _ text: String) -> [String] {
        let scalars = text.unicodeScalars.map(\.value)
        var input = SplitInput()
        input.load(scalars)
        var start = 0
        return kind.split(input).map { length in
            defer { start += length }
            return String(String.UnicodeScalarView(scalars[start ..< start + length].compactMap(Unicode.Scalar.init)))
        }
    }

    @Test func qwen2WhitespaceRuns() {
        #expect(words(.qwen2, "Hello   world") == ["Hello", "  ", " world"])
        #expect(words(.qwen2, "a\r\n\r\n  b") == ["a", "\r\n\r\n", " ", " b"])
        #expect(words(.qwen2, "end  ") == ["end", "  "])
        #expect(words(.qwen2, "x.\n\ny") == ["x", ".\n\n", "y"])
    }

    @Test func contractions() {
        #expect(words(.qwen2, "DON'T") == ["DON", "'T"])  // case-insensitive
        #expect(words(.gpt2, "DON'T") == ["DON", "'", "T"])  // case-sensitive
        #expect(words(.gpt2, "they'll") == ["they", "'ll"])
    }

    @Test func digits() {
        #expect(words(.qwen2, "x2024") == ["x", "2", "0", "2", "4"])
        #expect(words(.smollm, "abc123 x") == ["abc", "1", "2", "3", " x"])
        #expect(words(.smollm, "a 1") == ["a", " ", "1"])
        #expect(words(.gpt2, "a 123") == ["a", " 123"])
        #expect(words(.defaultBPE, "1234567") == ["123", "456", "7"])
        #expect(words(.defaultBPE, "$100") == ["$", "100"])
    }

    @Test func lettersIncludeOtherScripts() {
        // [^\r\n\p{L}\p{N}]?\p{L}+ lets the comma lead the next word.
        #expect(words(.qwen2, "你好，世界") == ["你好", "，世界"])
        #expect(words(.gpt2, " héllo wörld") == [" héllo", " wörld"])
        // A combining mark is not a letter (\p{M}), so it splits the word.
        #expect(words(.gpt2, "e\u{301}x") == ["e", "\u{301}", "x"])
    }

    @Test func unicodeTablesAreLlamaCppsVersion() {
        // llama.cpp's tables are Unicode 15.1: later letters are unassigned there.
        #expect(CodepointFlags.of(0x0041).isLetter)
        #expect(CodepointFlags.of(0x4E00).isLetter)
        #expect(CodepointFlags.of(0x088F) == .undefined)  // ARABIC LETTER NOON WITH RING ABOVE (17.0)
        #expect(CodepointFlags.of(0x1C89) == .undefined)  // CYRILLIC CAPITAL LETTER TJE (16.0)
        #expect(CodepointFlags.of(0x1F6DC).contains(.symbol))  // WIRELESS (15.0): known there
        #expect(CodepointFlags.of(0x3000).isWhitespace)
        #expect(CodepointFlags.of(0x0085).isWhitespace)
        #expect(!CodepointFlags.of(0x200B).isWhitespace)  // ZERO WIDTH SPACE is Cf, not \s
        #expect(CodepointFlags.of(0x00B2).isNumber)  // SUPERSCRIPT TWO (No)
    }
}
