import Testing
import Tokenization

@Suite("Special-token partitioning")
struct SpecialTokenTests {
    typealias V = TestVocabularies

    @Test func controlTokensAreMatchedInText() throws {
        let tokenizer = try V.bytePair(merges: [], special: ["<|im_start|>", "<|im_end|>"])
        let ids = tokenizer.encode("<|im_start|>hi<|im_end|>")
        #expect(V.texts(ids, tokenizer) == ["<|im_start|>", "h", "i", "<|im_end|>"])
        #expect(tokenizer.decode(ids) == "<|im_start|>hi<|im_end|>")
        #expect(tokenizer.decode(ids, renderSpecial: false) == "hi")
    }

    @Test func parseSpecialOffTreatsControlTokensAsText() throws {
        let tokenizer = try V.bytePair(merges: [], special: ["<s>"], userDefined: ["@@"])
        let ids = tokenizer.encode("<s>@@", parseSpecial: false)
        // Control tokens become text; user-defined ones are still matched (as in llama.cpp).
        #expect(V.texts(ids, tokenizer) == ["<", "s", ">", "@@"])
    }

    @Test func literalRangesReadControlTokensAsText() throws {
        let tokenizer = try V.bytePair(merges: [], special: ["<s>"], userDefined: ["@@"])
        // Bytes 3..<8 ("<s>@@") are literal: "<s>" there is text, "@@" still matches.
        let ids = tokenizer.encode("<s>x<s>@@<s>", parseSpecial: true, literal: [4 ..< 9])
        #expect(V.texts(ids, tokenizer) == ["<s>", "x", "<", "s", ">", "@@", "<s>"])
        // A token only partly inside a literal range is not matched either.
        #expect(V.texts(tokenizer.encode("<s>", parseSpecial: true, literal: [2 ..< 3]), tokenizer) == ["<", "s", ">"])
    }

    @Test func renderedPromptsMarkOnlyMessageContent() throws {
        let tokenizer = try V.bytePair(merges: [], special: ["<|im_start|>", "<|im_end|>"])
        let messages = [ChatMessage(role: .user, content: "a<|im_end|>b")]
        for template in [ChatTemplate.chatML(defaultSystem: "sys"), .gemma] {
            let rendered = template.renderPrompt(messages, addGenerationPrompt: true)
            #expect(rendered.text == template.render(messages, addGenerationPrompt: true))
            let bytes = Array(rendered.text.utf8)
            let contents = rendered.contentRanges.map { String(decoding: bytes[$0], as: UTF8.self) }
            if case .chatML = template { #expect(contents == ["sys", "a<|im_end|>b"]) } else { #expect(contents == ["a<|im_end|>b"]) }
        }
        let rendered = ChatTemplate.chatML(defaultSystem: nil).renderPrompt(messages, addGenerationPrompt: false)
        #expect(V.texts(tokenizer.encode(rendered, addBOS: false), tokenizer)
            == ["<|im_start|>", "u", "s", "e", "r", "Ċ", "a", "<", "|", "i", "m", "_", "e", "n", "d", "|", ">", "b", "<|im_end|>", "Ċ"])
    }

    @Test func longerTokensTakePrecedence() throws {
        // "bcd" is longer than "ab", so it is matched first although "ab" starts earlier.
        let tokenizer = try V.bytePair(merges: [], special: ["ab", "bcd"])
        #expect(V.texts(tokenizer.encode("abcd"), tokenizer) == ["a", "bcd"])
        #expect(V.texts(tokenizer.encode("abab"), tokenizer) == ["ab", "ab"])
    }

    @Test func repeatedAndOverlappingOccurrences() throws {
        let tokenizer = try V.bytePair(merges: [], userDefined: ["\n", "\n\n"])
        #expect(V.texts(tokenizer.encode("\n\n\n"), tokenizer) == ["\n\n", "\n"])
        #expect(V.texts(tokenizer.encode("a\n\n\n\nb"), tokenizer) == ["a", "\n\n", "\n\n", "b"])
    }

    @Test func incompleteSpecialTokenIsText() throws {
        let tokenizer = try V.bytePair(merges: [], special: ["<|im_end|>"])
        #expect(!tokenizer.encode("<|im_end|").contains { tokenizer.isSpecial($0) })
    }

    @Test func endOfGenerationByText() throws {
        let tokenizer = try V.bytePair(merges: [], special: ["<|im_start|>", "<|im_end|>", "<|endoftext|>"])
        let imEnd = try #require(tokenizer.vocabulary.id(of: "<|im_end|>"))
        let start = try #require(tokenizer.vocabulary.id(of: "<|im_start|>"))
        #expect(tokenizer.endOfTurnIDs.contains(imEnd))
        #expect(tokenizer.isEndOfGeneration(imEnd))
        #expect(!tokenizer.isEndOfGeneration(start))
    }
}
