import Foundation
import GGUF
import Tokenization

/// A loaded model: transformer weights, tokenizer and chat format from one GGUF file.
///
/// `LanguageModel.load(path:)` keeps one instance per file (by resolved path), so agents that
/// use the same model share one mapping and one set of dequantized prefill weights.
public final class LanguageModel: Sendable {
    public let path: String
    public let transformer: Transformer
    public let tokenizer: Tokenizer
    /// nil when neither the GGUF template nor the architecture identifies a chat format.
    public let chatTemplate: ChatTemplate?

    public var configuration: ModelConfiguration { transformer.configuration }

    public init(path: String) throws {
        let file = try GGUFFile(path: path)
        self.path = path
        transformer = try Transformer(file: file)
        tokenizer = try Tokenizer(gguf: file)
        chatTemplate = try? ChatTemplate(gguf: file)
    }

    private static let loaded = Mutex<[String: LanguageModel]>([:])

    /// The shared instance for `path` (loaded on first use).
    public static func load(path: String) throws -> LanguageModel {
        let key = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        if let model = loaded.withLock({ $0[key] }) { return model }
        let model = try LanguageModel(path: key)
        return loaded.withLock { cache in
            if let existing = cache[key] { return existing }
            cache[key] = model
            return model
        }
    }

    /// Prompt tokens for a chat: rendered with the model's format, BOS per the tokenizer's metadata;
    /// control-token text inside the messages stays text.
    public func chatPrompt(_ messages: [ChatMessage]) -> [Int32] {
        let template = chatTemplate ?? .chatML(defaultSystem: nil)
        return tokenizer.encode(template.renderPrompt(messages, addGenerationPrompt: true), addBOS: tokenizer.addBOSByDefault)
    }
}

import Synchronization
