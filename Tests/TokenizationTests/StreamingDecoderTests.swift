import Testing
import Tokenization

@Suite("Streaming decoder")
struct StreamingDecoderTests {
    typealias V = TestVocabularies

    @Test func emojiSplitIntoByteTokens() throws {
        let tokenizer = try V.sentencePiece(pieces: [("a", -1)])
        let ids = tokenizer.encode("a😀a")  // 😀 = F0 9F 98 80, four byte tokens
        #expect(ids.count == 6)
        var stream = StreamingDecoder(tokenizer: tokenizer)
        let chunks = ids.map { stream.append($0) }
        #expect(chunks == ["a", "", "", "", "😀", "a"])
        #expect(!stream.hasPendingBytes)
        #expect(stream.flush() == "")
    }

    @Test func characterSplitAcrossMultiByteTokens() throws {
        // "é" (C3 A9) followed by "😀" split as F0 9F | 98 80, across BPE tokens.
        let tokenizer = try V.bytePair(merges: [])
        let bytes = Array("é😀".utf8)
        let ids = try bytes.map { byte in
            try #require(tokenizer.vocabulary.id(of: String(TestVocabularies.gpt2ByteCharacters[Int(byte)])))
        }
        var stream = StreamingDecoder(tokenizer: tokenizer)
        var out: [String] = []
        for id in ids { out.append(stream.append(id)) }
        #expect(out == ["", "é", "", "", "", "😀"])
    }

    @Test func neverEmitsBrokenUTF8() throws {
        let tokenizer = try V.sentencePiece(pieces: [])
        func byteToken(_ byte: UInt8) -> Int32 { 3 + Int32(byte) }
        var stream = StreamingDecoder(tokenizer: tokenizer)
        // A stray continuation byte can never complete: it is emitted as U+FFFD at once.
        #expect(stream.append(byteToken(0x80)) == "\u{FFFD}")
        // A lead byte waits…
        #expect(stream.append(byteToken(0xE2)) == "")
        #expect(stream.hasPendingBytes)
        // …and is given up when the next byte cannot continue it.
        #expect(stream.append(byteToken(0x41)) == "\u{FFFD}A")
        // E0 must be followed by A0…BF: E0 80 is invalid straight away.
        #expect(stream.append(byteToken(0xE0)) == "")
        #expect(stream.append(byteToken(0x80)) == "\u{FFFD}\u{FFFD}")
        // flush() gives up an unfinished character.
        #expect(stream.append(byteToken(0xF0)) == "")
        #expect(stream.append(byteToken(0x9F)) == "")
        #expect(stream.flush() == "\u{FFFD}")
        #expect(!stream.hasPendingBytes)
    }

    @Test func matchesDecodeOnMixedText() throws {
        let tokenizer = try V.sentencePiece(pieces: [("▁", -1), ("h", -1), ("i", -1), ("hi", -2)], control: ["<x>"])
        let text = "hi 👩‍💻 <x> ünï 日本"
        let ids = tokenizer.encode(text)
        var stream = StreamingDecoder(tokenizer: tokenizer)
        let streamed = stream.append(contentsOf: ids) + stream.flush()
        #expect(streamed == tokenizer.decode(ids))
        #expect(streamed == text)
        var plain = StreamingDecoder(tokenizer: tokenizer, renderSpecial: false)
        #expect(plain.append(contentsOf: ids) + plain.flush() == tokenizer.decode(ids, renderSpecial: false))
    }
}
