/// Who wrote a chat message. Raw values are the role names chat templates use
/// (`ChatTemplate.gemma` writes `assistant` as `model`).
public enum ChatRole: String, Sendable, Codable, Hashable, CaseIterable {
    case system
    case user
    case assistant
}

/// One message of a conversation, as given to ``ChatTemplate/render(_:addGenerationPrompt:includeBOS:)``.
///
/// Codable as `{"role": "user", "content": "..."}`, the shape chat templates and the HF
/// `messages` lists use.
public struct ChatMessage: Sendable, Codable, Hashable {
    public var role: ChatRole
    public var content: String

    public init(role: ChatRole, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { .init(role: .system, content: content) }
    public static func user(_ content: String) -> ChatMessage { .init(role: .user, content: content) }
    public static func assistant(_ content: String) -> ChatMessage { .init(role: .assistant, content: content) }
}
