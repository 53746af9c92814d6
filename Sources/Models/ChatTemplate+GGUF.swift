// Choosing a model's chat format from its GGUF metadata. The rules (template markers first,
// `general.architecture == "gemma3"` when the file carries no template) are in
// `ChatTemplate.detect(chatTemplate:architecture:)`; this file only reads the keys.
import GGUF
import Tokenization

extension ChatTemplate {
    /// GGUF key holding the model's Jinja chat template (absent in our Gemma 3 file).
    public static let chatTemplateKey = "tokenizer.chat_template"
    /// GGUF key naming the architecture, used when there is no chat template.
    public static let architectureKey = "general.architecture"

    /// The chat format for a model, from `tokenizer.chat_template` (ChatML with its default
    /// system prompt, or Gemma turns) or, without one, `general.architecture == "gemma3"`.
    ///
    /// Throws ``ChatTemplateError/unknownFamily(architecture:templateExcerpt:)`` otherwise.
    /// Tokenize the rendered prompt with BOS added per `tokenizer.ggml.add_bos_token`
    /// (see ``ChatTemplate/render(_:addGenerationPrompt:includeBOS:)``).
    public init(metadata: GGUFMetadata) throws(ChatTemplateError) {
        self = try ChatTemplate.detect(
            chatTemplate: metadata.string(Self.chatTemplateKey),
            architecture: metadata.string(Self.architectureKey))
    }

    /// The chat format for the model in `file`; see ``init(metadata:)``.
    public init(gguf file: GGUFFile) throws(ChatTemplateError) {
        try self.init(metadata: file.metadata)
    }
}
