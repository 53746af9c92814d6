// Golden: Fixtures/chat_golden.json, made by Tools/golden/make_chat_golden.py (jinja2 rendering
// of each GGUF's own tokenizer.chat_template; a handwritten template for Gemma 3, marked there).
import Foundation
import GGUF
import Models
import TestSupport
import Testing

@testable import Tokenization

// MARK: - Golden file

private struct ChatGolden: Decodable, Sendable {
    struct Model: Decodable, Sendable {
        let name: String
        let architecture: String
        let templateSource: String
        let ggufChatTemplate: String?
        let bosToken: String
        let addBosToken: Bool?
    }

    struct Case: Decodable, Sendable {
        let model: String
        let conversation: String
        let addGenerationPrompt: Bool
        let expected: String?
        let error: String?
    }

    let models: [Model]
    let conversations: [String: [ChatMessage]]
    let cases: [Case]

    static func load() throws -> ChatGolden {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/chat_golden.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ChatGolden.self, from: Data(contentsOf: url))
    }
}

/// The template each golden model must get, by model name.
private let expectedTemplates: [String: ChatTemplate] = [
    "smollm2-135m": .smolLM2,
    "qwen2.5-0.5b": .qwen25,
    "gemma3-270m": .gemma,
]

/// A readable account of where two strings first differ (compared as UTF-8 bytes, so no Unicode
/// normalisation hides a difference), with both sides escaped.
private func mismatchReport(expected: String, actual: String) -> String {
    let e = Array(expected.utf8), a = Array(actual.utf8)
    let common = zip(e, a).prefix { $0 == $1 }.count
    // Back up to a scalar boundary so the excerpts decode cleanly.
    var start = max(0, common - 40)
    while start > 0, start < e.count, e[start] & 0xC0 == 0x80 { start -= 1 }
    func excerpt(_ bytes: [UInt8]) -> String {
        String(decoding: bytes[min(start, bytes.count)..<min(common + 40, bytes.count)], as: UTF8.self).debugDescription
    }
    let line = e.prefix(common).filter { $0 == UInt8(ascii: "\n") }.count + 1
    return """
        first difference at byte \(common) (line \(line)); expected \(e.count) bytes, got \(a.count)
          expected …\(excerpt(e))…
          actual   …\(excerpt(a))…
        full expected: \(expected.debugDescription)
        full actual:   \(actual.debugDescription)
        """
}

/// Exact comparison (UTF-8 bytes: Swift's `==` on String would accept canonically equivalent
/// text); on mismatch records only the readable report, not the byte arrays.
private func expectSameBytes(
    _ actual: String, _ expected: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    if !actual.utf8.elementsEqual(expected.utf8) {
        Issue.record("\(label)\n\(mismatchReport(expected: expected, actual: actual))", sourceLocation: sourceLocation)
    }
}

// MARK: - Rendering against the goldens

@Suite("ChatTemplate")
struct ChatTemplateTests {
    @Test("golden file covers every model and conversation")
    func goldenShape() throws {
        let golden = try ChatGolden.load()
        #expect(Set(golden.models.map(\.name)) == Set(expectedTemplates.keys))
        #expect(golden.cases.count == golden.models.count * golden.conversations.count * 2)
        #expect(golden.conversations.values.contains { $0.filter { $0.role != .system }.count >= 5 })
        // Gemma 3's golden comes from a handwritten template; make sure the file still says so.
        let gemma = try #require(golden.models.first { $0.name == "gemma3-270m" })
        #expect(gemma.ggufChatTemplate == nil)
        #expect(gemma.templateSource.hasPrefix("HANDWRITTEN"))
    }

    @Test("render matches the jinja2 goldens byte for byte")
    func rendersGoldens() throws {
        let golden = try ChatGolden.load()
        var checked = 0
        for c in golden.cases {
            let template = try #require(expectedTemplates[c.model], "no template for \(c.model)")
            let messages = try #require(golden.conversations[c.conversation])
            let label = "\(c.model) / \(c.conversation) / addGenerationPrompt=\(c.addGenerationPrompt)"
            if let expected = c.expected {
                let full = template.render(messages, addGenerationPrompt: c.addGenerationPrompt, includeBOS: true)
                expectSameBytes(full, expected, label)
                // Default rendering leaves the template's BOS text to the tokenizer.
                let bos = template.templateBOS ?? ""
                #expect(expected.hasPrefix(bos), "\(label): golden does not start with \(bos.debugDescription)")
                let plain = template.render(messages, addGenerationPrompt: c.addGenerationPrompt)
                let expectedPlain = String(decoding: Array(expected.utf8).dropFirst(bos.utf8.count), as: UTF8.self)
                expectSameBytes(plain, expectedPlain, label + " (no BOS)")
                #expect(throws: Never.self, "\(label): validate rejected a conversation the template accepts") {
                    try template.validate(messages)
                }
            } else {
                #expect(c.error != nil, "\(label): case has neither expected nor error")
                #expect(throws: ChatTemplateError.self, "\(label): template raised \(c.error ?? "")") {
                    try template.validate(messages)
                }
            }
            checked += 1
        }
        #expect(checked == golden.cases.count && checked > 0)
    }

    @Test("generation prompt and stop strings")
    func turnMarkers() {
        #expect(ChatTemplate.smolLM2.generationPrompt == "<|im_start|>assistant\n")
        #expect(ChatTemplate.gemma.generationPrompt == "<start_of_turn>model\n")
        #expect(ChatTemplate.qwen25.endOfTurn == "<|im_end|>")
        #expect(ChatTemplate.gemma.endOfTurn == "<end_of_turn>")
        for template in [ChatTemplate.smolLM2, .qwen25, .chatML(defaultSystem: nil), .gemma] {
            #expect(template.stopStrings.first == template.endOfTurn)
        }
        #expect(ChatTemplate.qwen25.templateBOS == nil)
        #expect(ChatTemplate.gemma.templateBOS == "<bos>")
    }

    @Test("edge cases outside the goldens")
    func edgeCases() {
        // Empty conversation: only the generation prompt (SmolLM2's template does the same).
        #expect(ChatTemplate.qwen25.render([], addGenerationPrompt: true) == "<|im_start|>assistant\n")
        #expect(ChatTemplate.gemma.render([], addGenerationPrompt: false, includeBOS: true) == "<bos>")
        // ChatML without a default system prompt writes none.
        #expect(
            ChatTemplate.chatML(defaultSystem: nil).render([.user("hi")], addGenerationPrompt: false)
                == "<|im_start|>user\nhi<|im_end|>\n")
        // Lenient Gemma rendering of a conversation validate() rejects: a later system message
        // folds into the next user turn.
        let odd: [ChatMessage] = [.user("a"), .assistant("b"), .system("s"), .user("c")]
        #expect(throws: ChatTemplateError.systemMessageNotFirst(index: 2)) { try ChatTemplate.gemma.validate(odd) }
        #expect(
            ChatTemplate.gemma.render(odd, addGenerationPrompt: false)
                == "<start_of_turn>user\na<end_of_turn>\n<start_of_turn>model\nb<end_of_turn>\n"
                + "<start_of_turn>user\ns\n\nc<end_of_turn>\n")
        #expect(throws: ChatTemplateError.rolesDoNotAlternate(index: 0, found: .assistant, expected: .user)) {
            try ChatTemplate.gemma.validate([.assistant("x")])
        }
        // Combining marks are neither normalised nor split by Gemma's whitespace trimming.
        #expect(Array(ChatTemplate.pythonStrip(" \u{301}x\u{A0}").unicodeScalars) == Array("\u{301}x".unicodeScalars))
        #expect(ChatTemplate.pythonStrip("\u{1C}\u{85} \u{3000}") == "")
        #expect(ChatTemplate.pythonStrip("\u{200B}x") == "\u{200B}x")  // zero-width space is not space
    }

    @Test("message JSON shape")
    func messageCoding() throws {
        let data = try JSONEncoder().encode(ChatMessage.assistant("ok"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
        #expect(object == ["role": "assistant", "content": "ok"])
        let decoded = try JSONDecoder().decode(ChatMessage.self, from: Data(#"{"role":"system","content":"x"}"#.utf8))
        #expect(decoded == .system("x"))
    }
}

// MARK: - Detection

extension ChatTemplateTests {
    @Suite("ChatTemplate detection")
    struct Detection {
        @Test("detects each golden model from its GGUF template text and architecture")
        func detectsGoldenModels() throws {
            let golden = try ChatGolden.load()
            for model in golden.models {
                let detected = try ChatTemplate.detect(
                    chatTemplate: model.ggufChatTemplate, architecture: model.architecture)
                #expect(detected == expectedTemplates[model.name], "\(model.name)")
                // BOS convention: the template writes a BOS text exactly when the tokenizer adds BOS.
                #expect((detected.templateBOS != nil) == (model.addBosToken ?? false), "\(model.name)")
                if let bos = detected.templateBOS { #expect(bos == model.bosToken) }
            }
        }

        @Test("unknown families throw a typed error")
        func unknownFamilies() {
            #expect(throws: ChatTemplateError.unknownFamily(architecture: "llama", templateExcerpt: nil)) {
                try ChatTemplate.detect(chatTemplate: nil, architecture: "llama")
            }
            #expect(throws: ChatTemplateError.unknownFamily(architecture: nil, templateExcerpt: nil)) {
                try ChatTemplate.detect(chatTemplate: "", architecture: nil)
            }
            let llama3 = "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>' }}"
            #expect(throws: ChatTemplateError.unknownFamily(architecture: "gemma3", templateExcerpt: llama3)) {
                try ChatTemplate.detect(chatTemplate: llama3, architecture: "gemma3")
            }
            let error = ChatTemplateError.unknownFamily(architecture: "llama", templateExcerpt: nil)
            #expect(error.description.contains("'llama'"))
        }

        @Test("Gemma turn templates are recognised by their markers")
        func gemmaMarker() throws {
            let text = "{{ bos_token }}{% for m in messages %}{{ '<start_of_turn>' + m['role'] + '\\n' }}{% endfor %}"
            #expect(try ChatTemplate.detect(chatTemplate: text, architecture: "gemma2") == .gemma)
            #expect(try ChatTemplate.detect(chatTemplate: nil, architecture: "gemma3") == .gemma)
        }

        @Test("default system prompt extraction from ChatML templates")
        func defaultSystemExtraction() throws {
            // Escapes in a double-quoted literal are decoded.
            #expect(
                ChatTemplate.chatMLDefaultSystem(inTemplate: #"{{ "<|im_start|>system\nCaf\u00e9 \"bot\"\tok<|im_end|>\n" }}"#)
                    == "Café \"bot\"\tok")
            // A system turn built from a variable is not a default; no fixed default means nil.
            let assembled = #"{{ '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}"#
            #expect(ChatTemplate.chatMLDefaultSystem(inTemplate: assembled) == nil)
            #expect(try ChatTemplate.detect(chatTemplate: assembled, architecture: nil) == .chatML(defaultSystem: nil))
            // Comments are skipped; plain template text counts.
            let commented = "{# '<|im_start|>system\nNo<|im_end|>' #}<|im_start|>system\nPlain text default<|im_end|>\n"
            #expect(ChatTemplate.chatMLDefaultSystem(inTemplate: commented) == "Plain text default")
            // An apostrophe in plain text does not start a literal.
            #expect(ChatTemplate.chatMLDefaultSystem(inTemplate: "it's {{ '<|im_start|>system\nX<|im_end|>' }}") == "X")
            // An empty default is still a default.
            #expect(ChatTemplate.chatMLDefaultSystem(inTemplate: "{{ '<|im_start|>system\\n<|im_end|>\\n' }}") == "")
        }
    }

}

// MARK: - Real GGUF files (skipped when absent unless RMAS_REQUIRE_MODELS=1)

extension ChatTemplateTests {
    @Suite("ChatTemplate from real GGUFs")
    struct RealModelFiles {
        private func check(_ name: String) throws {
            let path = try RealModels.require(name)
            let file = try GGUFFile(path: path)
            let template = try ChatTemplate(gguf: file)
            #expect(template == expectedTemplates[name], "\(name): detected \(template)")

            // The golden file was made from this very template text.
            let golden = try ChatGolden.load()
            let model = try #require(golden.models.first { $0.name == name })
            #expect(
                file.metadata.string(ChatTemplate.chatTemplateKey) == model.ggufChatTemplate,
                "\(name): template text differs from the golden's")

            // BOS convention: BOS text in the template <=> the tokenizer adds BOS; and that text is the BOS token.
            let addBOS = file.metadata.bool("tokenizer.ggml.add_bos_token") ?? false
            #expect(
                (template.templateBOS != nil) == addBOS,
                "\(name): add_bos_token=\(addBOS), templateBOS=\(String(describing: template.templateBOS))")
            let tokens = try #require(file.metadata.stringArray("tokenizer.ggml.tokens"))
            if let bos = template.templateBOS {
                let bosID = try #require(file.metadata.integer("tokenizer.ggml.bos_token_id"))
                #expect(tokens[bosID] == bos)
            }
            // Every turn marker and stop string is a single token of the vocabulary.
            for marker in template.stopStrings + [template.endOfTurn] {
                #expect(tokens.contains(marker), "\(name): \(marker) is not a token")
            }
        }

        @Test(.enabled(if: RealModels.available("smollm2-135m"))) func smolLM2() throws { try check("smollm2-135m") }
        @Test(.enabled(if: RealModels.available("qwen2.5-0.5b"))) func qwen25() throws { try check("qwen2.5-0.5b") }
        @Test(.enabled(if: RealModels.available("gemma3-270m"))) func gemma3() throws { try check("gemma3-270m") }
    }
}
