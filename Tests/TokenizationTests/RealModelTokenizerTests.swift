import Models
import TestSupport
import Testing
import Tokenization

/// Token-for-token agreement with llama.cpp on the real models' vocabularies.
///
/// Each test needs its model file from the model store (`RMAS_MODELS_DIR`). When the model is
/// absent the test is disabled, unless `RMAS_REQUIRE_MODELS=1` — then it runs and fails on the
/// missing file (`RealModels.available` is true whenever models are required).
@Suite("Tokenizer vs llama.cpp goldens (real models)")
struct RealModelTokenizerTests {
    @Test("SmolLM2 (gpt2 BPE, smollm pre-tokenizer)", .enabled(if: RealModels.available("smollm2-135m"), "needs smollm2-135m.gguf"))
    func smolLM2Tokenizer() throws {
        let tokenizer = try realModelTokenizer("smollm2-135m")
        checkAgainstGolden(tokenizer, try TokenizerGolden.load("tokens-smollm2-135m.json"), knownRoundTripExceptions: [])
        #expect(tokenizer.endOfTurnIDs.contains(2))  // <|im_end|>
        #expect(tokenizer.encode("hi", addBOS: true).first == 1)  // bos is <|im_start|> here
    }

    @Test("Qwen2.5 (gpt2 BPE, qwen2 pre-tokenizer)", .enabled(if: RealModels.available("qwen2.5-0.5b"), "needs qwen2.5-0.5b.gguf"))
    func qwen25Tokenizer() throws {
        let tokenizer = try realModelTokenizer("qwen2.5-0.5b")
        checkAgainstGolden(tokenizer, try TokenizerGolden.load("tokens-qwen2.5-0.5b.json"), knownRoundTripExceptions: [])
        #expect(tokenizer.endOfTurnIDs.contains(151645))  // <|im_end|>
        #expect(tokenizer.isEndOfGeneration(151645))
        #expect(!tokenizer.isEndOfGeneration(151644))  // <|im_start|>
    }

    @Test("Gemma 3 (SentencePiece, byte fallback)", .enabled(if: RealModels.available("gemma3-270m"), "needs gemma3-270m.gguf"))
    func gemma3Tokenizer() throws {
        let tokenizer = try realModelTokenizer("gemma3-270m")
        // SentencePiece decodes the vocabulary's own space marker "▁" as a space, so a literal
        // "▁" in the input does not survive the round trip — in llama.cpp either.
        checkAgainstGolden(
            tokenizer, try TokenizerGolden.load("tokens-gemma3-270m.json"),
            knownRoundTripExceptions: ["▁ is the SentencePiece space marker"])
        #expect(tokenizer.addBOSByDefault)
        let ids = tokenizer.encode("Hello", addBOS: true)
        #expect(ids.first == 2 && ids.dropFirst().elementsEqual(tokenizer.encode("Hello")))
        #expect(tokenizer.endOfTurnIDs.contains(106))  // <end_of_turn>
        #expect(tokenizer.encode("<start_of_turn>") == [105])
    }

    /// The "gpt-2" and "default" pre-tokenizers (not used by these models) on SmolLM2's
    /// vocabulary, against llama.cpp run on a copy of the GGUF with `tokenizer.ggml.pre` changed.
    @Test(
        "gpt-2 and default pre-tokenizers on SmolLM2's vocabulary",
        .enabled(if: RealModels.available("smollm2-135m"), "needs smollm2-135m.gguf"),
        arguments: ["gpt-2", "default"])
    func otherPreTokenizers(pre: String) throws {
        let tokenizer = try realModelTokenizer("smollm2-135m", preTokenizer: pre)
        // These pre-tokenizers turn on llama.cpp's clean_spaces pass when decoding, which drops
        // the space before ?!., and in " 's"-style contractions: these strings change.
        checkAgainstGolden(
            tokenizer, try TokenizerGolden.load("tokens-smollm2-135m-pre-\(pre).json"),
            knownRoundTripExceptions: [
                "'s 't 're 've 'm 'll 'd",
                "func encode(_ text: String, addBOS: Bool = false) -> [Int32] {\n    guard !text.isEmpty else { return [] }\n    return []\n}",
                "if (a != b && c == d || !e) { return a <= b ? c : d; }",
                "arr[0][1] = {\"key\": [1, 2, 3]}; obj?.prop ?? default",
            ])
    }
}
