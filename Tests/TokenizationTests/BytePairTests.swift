import Testing
import Tokenization

@Suite("Byte-level BPE (hand-built vocabularies)")
struct BytePairTests {
    typealias V = TestVocabularies

    @Test func lowestRankMergesFirst() throws {
        // "b c" outranks "a b", so "abc" → a + bc, and "a bc" (not a rule) never applies.
        let tokenizer = try V.bytePair(merges: [("b", "c"), ("a", "b")], extra: ["bc", "ab"])
        #expect(V.texts(tokenizer.encode("abc"), tokenizer) == ["a", "bc"])
        // With the other order, "ab" forms first.
        let other = try V.bytePair(merges: [("a", "b"), ("b", "c")], extra: ["ab", "bc"])
        #expect(V.texts(other.encode("abc"), other) == ["ab", "c"])
    }

    @Test func leftmostPairWinsTies() throws {
        let tokenizer = try V.bytePair(merges: [("a", "a")], extra: ["aa"])
        #expect(V.texts(tokenizer.encode("aaa"), tokenizer) == ["aa", "a"])
        #expect(V.texts(tokenizer.encode("aaaa"), tokenizer) == ["aa", "aa"])
    }

    @Test func mergesChainThroughIntermediatePieces() throws {
        // "ab"+"cd" → "abcd" needs both halves formed first.
        let tokenizer = try V.bytePair(
            merges: [("a", "b"), ("c", "d"), ("ab", "cd")], extra: ["ab", "cd", "abcd"])
        #expect(V.texts(tokenizer.encode("abcd"), tokenizer) == ["abcd"])
        #expect(V.texts(tokenizer.encode("abcdab"), tokenizer) == ["abcd", "ab"])
    }

    @Test func mergeResultThatIsNotATokenFallsBackToSingleByteTokens() throws {
        // The rule "x y" makes a piece "xy" that is no token: llama.cpp then emits the one-byte
        // tokens of its text.
        let tokenizer = try V.bytePair(merges: [("x", "y")])
        #expect(V.texts(tokenizer.encode("xy"), tokenizer) == ["x", "y"])
        #expect(V.texts(tokenizer.encode("xyx"), tokenizer) == ["x", "y", "x"])
    }

    @Test func wordsDoNotMergeAcrossPreTokenizerBoundaries() throws {
        // " b" starts a new word, so "a b" can never merge although the rule exists.
        let tokenizer = try V.bytePair(merges: [("a", " "), ("a ", "b")], extra: ["a ", "a b"], preTokenizer: .gpt2)
        #expect(V.texts(tokenizer.encode("a b"), tokenizer) == ["a", V.byteLevel(" "), "b"])
    }

    @Test func decodeMapsByteCharactersBack() throws {
        let tokenizer = try V.bytePair(merges: [], extra: [])
        let text = "héllo wörld 😀\n\t"
        let ids = tokenizer.encode(text)
        #expect(ids.count == text.utf8.count)  // no merges: one token per byte
        #expect(tokenizer.decode(ids) == text)
        #expect(tokenizer.pieceBytes(ids[1]) == [0xC3])  // first byte of "é"
    }

    @Test func preTokenizerSplitsLikeLlamaCpp() throws {
        // With no merges every byte is a token; word boundaries are then visible through merges
        // of a space with the next character, which only happen inside a word.
        let tokenizer = try V.bytePair(merges: [(" ", "x"), ("x", "1")], extra: [" x", "x1"], preTokenizer: .qwen2)
        // qwen2 splits digits one by one and keeps " x" together.
        #expect(V.texts(tokenizer.encode(" x1"), tokenizer) == [V.byteLevel(" x"), "1"])
        let smol = try V.bytePair(merges: [(" ", "x"), ("x", "1")], extra: [" x", "x1"], preTokenizer: .smollm)
        #expect(V.texts(smol.encode(" x1"), smol) == [V.byteLevel(" x"), "1"])
    }
}
