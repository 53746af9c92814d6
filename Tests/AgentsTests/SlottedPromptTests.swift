import Foundation
import Agents
import Models
import RoleData
import TestSupport
import Testing
import Tokenization

@Suite("Slot splicing")
struct SlottedPromptTests {
    @Test("text segments are tokenized separately and latents replace the marker")
    func splicesLatents() throws {
        let model = try LanguageModel(path: try Self.writeTiny())
        let d = model.configuration.width
        let latents = (0..<(3 * d)).map { Float($0 % 7) * 0.01 }
        let user = "Plan: \(LatentSlot.planner.marker) Now refine."
        let prompt = try SlottedPrompt(model: model, messages: [.init(role: .user, content: user)], latents: [.planner: latents])
        let template = model.chatTemplate ?? .chatML(defaultSystem: nil)
        let text = template.render([.init(role: .user, content: user)], addGenerationPrompt: true)
        let parts = text.components(separatedBy: LatentSlot.planner.marker)
        let before = model.tokenizer.encode(parts[0], addBOS: model.tokenizer.addBOSByDefault)
        let after = model.tokenizer.encode(parts[1], addBOS: false)
        #expect(prompt.count == before.count + 3 + after.count)
        #expect(prompt.latentCount == 3)
        #expect(Array(prompt.tokens.prefix(before.count)) == before.map { Optional($0) })
        #expect(Array(prompt.embeddings[(before.count * d)..<((before.count + 3) * d)]) == latents)
        #expect(Array(prompt.embeddings.suffix(after.count * d)) == model.transformer.embeddings(after))
    }

    @Test("a slot without latents, or latents without a slot, is an error")
    func mismatchedSlots() throws {
        let model = try LanguageModel(path: try Self.writeTiny())
        let d = model.configuration.width
        #expect(throws: AgentError.self) {
            try SlottedPrompt(model: model, messages: [.init(role: .user, content: "x \(LatentSlot.refined.marker)")], latents: [:])
        }
        #expect(throws: AgentError.self) {
            try SlottedPrompt(model: model, messages: [.init(role: .user, content: "no slot")],
                              latents: [.feedback: [Float](repeating: 0, count: d)])
        }
    }

    static func writeTiny() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-slot-\(UUID().uuidString).gguf")
        try Data(TinyModel(.llama).serialized()).write(to: url)
        return url.path
    }
}
