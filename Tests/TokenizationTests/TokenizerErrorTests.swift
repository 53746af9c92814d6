import GGUF
import Models
import Testing
import Tokenization

@Suite("Typed errors for bad tokenizer data")
struct TokenizerErrorTests {
    typealias V = TestVocabularies

    @Test func unknownPreTokenizer() {
        #expect(throws: TokenizerError.unknownPreTokenizer("llama-bpe-2")) {
            try PreTokenizerKind(ggufName: "llama-bpe-2")
        }
        #expect((try? PreTokenizerKind(ggufName: nil)) == .defaultBPE)
        #expect((try? PreTokenizerKind(ggufName: "qwen2")) == .qwen2)
    }

    @Test func mergeReferencingUnknownToken() {
        #expect(throws: TokenizerError.mergeReferencesUnknownToken(index: 1, rule: "a zz", piece: "zz")) {
            let vocabulary = try Vocabulary(tokens: ["a", "b", "ab"])
            _ = try Tokenizer(vocabulary: vocabulary, model: .bytePairEncoding(merges: ["a b", "a zz"], preTokenizer: .gpt2))
        }
    }

    @Test func malformedMerge() {
        #expect(throws: TokenizerError.malformedMerge(index: 0, rule: "ab")) {
            let vocabulary = try Vocabulary(tokens: ["a", "b", "ab"])
            _ = try Tokenizer(vocabulary: vocabulary, model: .bytePairEncoding(merges: ["ab"], preTokenizer: .gpt2))
        }
    }

    @Test func arrayLengthMismatch() {
        #expect(throws: TokenizerError.arrayLengthMismatch(key: "scores", expected: 3, actual: 2)) {
            try Vocabulary(tokens: ["a", "b", "c"], scores: [0, 0])
        }
        #expect(throws: TokenizerError.arrayLengthMismatch(key: "token_type", expected: 3, actual: 4)) {
            try Vocabulary(tokens: ["a", "b", "c"], types: [.normal, .normal, .normal, .normal])
        }
    }

    @Test func duplicateAndEmptyTokens() throws {
        #expect(throws: TokenizerError.duplicateToken(text: "b", firstID: 1, secondID: 2)) {
            try Vocabulary(tokens: ["a", "b", "b"])
        }
        #expect(throws: TokenizerError.emptyVocabulary) { try Vocabulary(tokens: []) }
        // Empty texts are renamed as llama.cpp does, so they can never match input.
        #expect(try Vocabulary(tokens: ["a", ""]).tokens == ["a", "[EMPTY_1]"])
    }

    @Test func specialTokenOutOfRange() {
        #expect(throws: TokenizerError.specialTokenOutOfRange(role: "eos", id: 7, vocabularySize: 3)) {
            let vocabulary = try Vocabulary(tokens: ["a", "b", "c"])
            _ = try Tokenizer(vocabulary: vocabulary, model: .sentencePiece(addSpacePrefix: false), specialTokens: SpecialTokenIDs(eos: 7))
        }
    }

    @Test func ggufMetadataProblems() {
        func metadata(_ entries: [(String, GGUFValue)]) -> GGUFMetadata {
            var m = GGUFMetadata()
            for (key, value) in entries { m.append(key, value) }
            return m
        }
        let tokens: (String, GGUFValue) = ("tokenizer.ggml.tokens", .array(.string(["a", "b", "ab"])))
        #expect(throws: TokenizerError.missingMetadata(key: "tokenizer.ggml.model")) {
            try Tokenizer(metadata: metadata([tokens]))
        }
        #expect(throws: TokenizerError.unsupportedModel("bert")) {
            try Tokenizer(metadata: metadata([("tokenizer.ggml.model", .string("bert")), tokens]))
        }
        #expect(throws: TokenizerError.missingMetadata(key: "tokenizer.ggml.merges")) {
            try Tokenizer(metadata: metadata([("tokenizer.ggml.model", .string("gpt2")), tokens]))
        }
        #expect(throws: TokenizerError.unknownPreTokenizer("mystery")) {
            try Tokenizer(metadata: metadata([
                ("tokenizer.ggml.model", .string("gpt2")), tokens,
                ("tokenizer.ggml.merges", .array(.string(["a b"]))), ("tokenizer.ggml.pre", .string("mystery")),
            ]))
        }
        #expect(throws: TokenizerError.arrayLengthMismatch(key: "token_type", expected: 3, actual: 1)) {
            try Tokenizer(metadata: metadata([
                ("tokenizer.ggml.model", .string("llama")), tokens, ("tokenizer.ggml.token_type", .array(.int32([1]))),
            ]))
        }
        #expect(throws: TokenizerError.missingMetadata(key: "tokenizer.ggml.scores")) {
            try Tokenizer(metadata: metadata([
                ("tokenizer.ggml.model", .string("llama")), tokens, ("tokenizer.ggml.scores", .string("nope")),
            ]))
        }
        #expect(throws: TokenizerError.specialTokenOutOfRange(role: "bos_token_id", id: 99, vocabularySize: 3)) {
            try Tokenizer(metadata: metadata([
                ("tokenizer.ggml.model", .string("gpt2")), tokens, ("tokenizer.ggml.merges", .array(.string(["a b"]))),
                ("tokenizer.ggml.bos_token_id", .uint32(99)),
            ]))
        }
    }

    @Test func validMetadataBuildsATokenizer() throws {
        var m = GGUFMetadata()
        m.append("tokenizer.ggml.model", .string("gpt2"))
        m.append("tokenizer.ggml.pre", .string("qwen2"))
        m.append("tokenizer.ggml.tokens", .array(.string(["a", "b", "ab", "<|im_end|>"])))
        m.append("tokenizer.ggml.token_type", .array(.int32([1, 1, 1, 3])))
        m.append("tokenizer.ggml.merges", .array(.string(["a b"])))
        m.append("tokenizer.ggml.eos_token_id", .uint32(3))
        let tokenizer = try Tokenizer(metadata: m)
        #expect(tokenizer.encode("ab<|im_end|>") == [2, 3])
        #expect(tokenizer.eosID == 3)
        #expect(tokenizer.isEndOfGeneration(3))
        #expect(!tokenizer.addBOSByDefault)
    }
}
