// Provenance: the inner-loop objective's data preparation (spec §1.3): one chat example per row,
// [system, user(role prompt), assistant(role target)], prompt length = the render of
// [system, user] with the generation prompt; pairs (H_t, E_{t+1}) for every t whose next token
// belongs to the assistant part.
import Kernels
import Models
import RoleData
import Tokenization

/// One tokenized inner-training example.
public struct InnerTrainingExample: Sendable {
    /// Full conversation ids (BOS per the tokenizer's metadata), truncated to the maximum length.
    public var tokens: [Int32]
    /// Ids up to and including the assistant header; `tokens[promptLength...]` is the target.
    public var promptLength: Int

    /// Positions t whose next token is an assistant token: promptLength − 1 ..< count − 1 (empty
    /// when truncation removed the whole target).
    public var pairPositions: Range<Int> {
        let end = max(tokens.count - 1, 0)
        return min(max(promptLength - 1, 0), end)..<end
    }

    public init(tokens: [Int32], promptLength: Int) {
        self.tokens = tokens
        self.promptLength = promptLength
    }

    /// Renders `pair` with the model's chat format. Throws if the prompt render is not a token
    /// prefix of the full render (the objective's mask would be wrong).
    public init(pair: TrainingPair, model: LanguageModel, maximumLength: Int) throws(AgentError) {
        let template = model.chatTemplate ?? .chatML(defaultSystem: nil)
        let system = ChatMessage(role: .system, content: pair.system), user = ChatMessage(role: .user, content: pair.user)
        let promptText = template.renderPrompt([system, user], addGenerationPrompt: true)
        let fullText = template.renderPrompt([system, user, ChatMessage(role: .assistant, content: pair.target)],
                                             addGenerationPrompt: false)
        let bos = model.tokenizer.addBOSByDefault
        let prompt = model.tokenizer.encode(promptText, addBOS: bos)
        let full = model.tokenizer.encode(fullText, addBOS: bos)
        guard full.count > prompt.count, Array(full.prefix(prompt.count)) == prompt else {
            throw .promptNotPrefix(detail: "the rendered prompt (\(prompt.count) tokens) is not a prefix of the full conversation (\(full.count))")
        }
        tokens = Array(full.prefix(maximumLength))
        promptLength = prompt.count
    }
}

/// The frozen model's side of the inner objective for one example, computed once: the link never
/// changes H or E, so training steps reuse them (the expensive forward runs once per example).
public struct InnerFeatures: Sendable {
    /// `[P × D]`: H_t, post-final-norm hidden states at the pair positions.
    public var hidden: [Float]
    /// `[P × D]`: E_{t+1}, the model's input embeddings of the following tokens (Gemma: scaled).
    public var targets: [Float]
    public var count: Int

    public init(example: InnerTrainingExample, transformer: Transformer, threads: Int = Parallel.defaultThreadCount) {
        let positions = Array(example.pairPositions)
        let d = transformer.configuration.width
        let cache = KVCache(configuration: transformer.configuration, capacity: example.tokens.count)
        let result = transformer.forward(tokens: example.tokens, cache: cache, outputs: .positions(positions), logits: false,
                                         threads: threads)
        hidden = result.hidden
        targets = transformer.embeddings(positions.map { example.tokens[$0 + 1] })
        count = positions.count
        precondition(hidden.count == count * d)
    }
}
