import Testing
import Tokenization

@Suite("SentencePiece (hand-built vocabularies)")
struct SentencePieceTests {
    typealias V = TestVocabularies

    @Test func highestScoreMergesFirst() throws {
        let tokenizer = try V.sentencePiece(pieces: [("a", -1), ("b", -1), ("c", -1), ("ab", -3), ("bc", -2)])
        #expect(V.texts(tokenizer.encode("abc"), tokenizer) == ["a", "bc"])
        let other = try V.sentencePiece(pieces: [("a", -1), ("b", -1), ("c", -1), ("ab", -2), ("bc", -3)])
        #expect(V.texts(other.encode("abc"), other) == ["ab", "c"])
    }

    @Test func leftmostWinsTies() throws {
        let tokenizer = try V.sentencePiece(pieces: [("a", -1), ("aa", -2)])
        #expect(V.texts(tokenizer.encode("aaa"), tokenizer) == ["aa", "a"])
    }

    @Test func spacesBecomeMarkers() throws {
        let tokenizer = try V.sentencePiece(pieces: [("▁", -1), ("a", -1), ("▁a", -2)])
        #expect(V.texts(tokenizer.encode("a a"), tokenizer) == ["a", "▁a"])
        #expect(tokenizer.decode(tokenizer.encode("a a")) == "a a")
    }

    @Test func addSpacePrefixAtStartAndAfterSpecialTokens() throws {
        let tokenizer = try V.sentencePiece(
            pieces: [("▁", -1), ("a", -1), ("▁a", -2)], control: ["<x>"], addSpacePrefix: true)
        #expect(V.texts(tokenizer.encode("a<x>a"), tokenizer) == ["▁a", "<x>", "▁a"])
        // The prefixed space is removed again when decoding.
        #expect(tokenizer.decode(tokenizer.encode("a")) == "a")
    }

    @Test func unknownCharactersFallBackToByteTokens() throws {
        let tokenizer = try V.sentencePiece(pieces: [("a", -1)])
        let ids = tokenizer.encode("aé")
        #expect(V.texts(ids, tokenizer) == ["a", "<0xC3>", "<0xA9>"])
        #expect(tokenizer.decode(ids) == "aé")
        #expect(tokenizer.pieceBytes(ids[1]) == [0xC3])
    }

    @Test func bosOnlyWhenAsked() throws {
        let tokenizer = try V.sentencePiece(pieces: [("a", -1)])
        #expect(tokenizer.addBOSByDefault)
        #expect(tokenizer.encode("a").first != 1)
        #expect(tokenizer.encode("a", addBOS: true) == [1] + tokenizer.encode("a"))
        #expect(tokenizer.encode("", addBOS: true) == [1])
        #expect(tokenizer.encode("") == [])
    }
}
