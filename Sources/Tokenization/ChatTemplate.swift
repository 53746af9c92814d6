// Chat formatting for the model families this engine runs, written directly in Swift (there is
// no Jinja engine here). Each case reproduces, for the messages it supports, exactly the text
// the model's reference Jinja template renders; Tools/golden/make_chat_golden.py renders those
// templates with jinja2 and Tests/TokenizationTests/ChatTemplateTests.swift compares byte for byte.
//
// BOS convention (shared with the tokenizer): `render` returns the prompt WITHOUT any BOS text
// by default. The tokenizer adds the BOS token itself when the GGUF says
// `tokenizer.ggml.add_bos_token = true`, as llama.cpp's chat path does, so a BOS text written
// into the prompt as well would double it. Of our models only Gemma 3 has
// add_bos_token = true, and only its template writes a BOS text (`<bos>`); the ChatML templates
// of SmolLM2 and Qwen2.5 write none and their GGUFs say add_bos_token = false. So:
//   tokenizer.encode(template.render(messages, addGenerationPrompt: true), addBOS: add_bos_token)
// gives exactly one BOS for Gemma 3 and none for the ChatML models. Pass `includeBOS: true` only
// to obtain the template's full text (what the goldens hold), e.g. for display or for a
// tokenizer call that does not add BOS itself; never combine it with add_bos.

/// A chat prompt format.
///
/// - `chatML`: `<|im_start|>ROLE\nCONTENT<|im_end|>\n` per message, generation prompt
///   `<|im_start|>assistant\n`. With a `defaultSystem`, a system turn holding it is written first
///   when the first message is not a system message (SmolLM2 and Qwen2.5 both do this; see
///   ``smolLM2`` and ``qwen25``). System messages later in the conversation are written as
///   ordinary system turns, as both reference templates do.
///   Qwen2.5's reference template also supports tools (a `tools` list rendered into the system
///   turn, assistant `tool_calls`, `tool` role messages wrapped in `<tool_response>`); tools are
///   out of scope here: this renders the template's no-tools path only.
/// - `gemma`: the Gemma 3 turn format. `<start_of_turn>ROLE\nCONTENT<end_of_turn>\n` with the
///   assistant role written `model`, each turn's content stripped of surrounding whitespace (as
///   Jinja `trim` / Python `str.strip()` do), generation prompt `<start_of_turn>model\n`, BOS text
///   `<bos>` at the start (see the BOS convention above). Gemma 3 has no system role: a leading
///   system message is folded into the first user turn as `SYSTEM\n\nUSER` (the system text
///   itself is not stripped, as in the published template).
public enum ChatTemplate: Sendable, Hashable {
    case chatML(defaultSystem: String?)
    case gemma

    /// SmolLM2-Instruct's default system prompt (from its `tokenizer.chat_template`).
    public static let smolLM2DefaultSystem = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    /// Qwen2.5-Instruct's default system prompt (from its `tokenizer.chat_template`).
    public static let qwen25DefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

    public static let smolLM2 = ChatTemplate.chatML(defaultSystem: smolLM2DefaultSystem)
    public static let qwen25 = ChatTemplate.chatML(defaultSystem: qwen25DefaultSystem)

    /// The text that ends a turn; the model emits it (as one special token) when its reply is done.
    public var endOfTurn: String {
        switch self {
        case .chatML: "<|im_end|>"
        case .gemma: "<end_of_turn>"
        }
    }

    /// Texts at which generation should stop, end-of-turn first. Generation should stop on the
    /// corresponding special token ids in the first place; these are for text-level checks.
    /// (Gemma 3's GGUF EOS is `<eos>`, but a chat reply ends with `<end_of_turn>`; ChatML models
    /// may also emit `<|endoftext|>`.)
    public var stopStrings: [String] {
        switch self {
        case .chatML: ["<|im_end|>", "<|endoftext|>"]
        case .gemma: ["<end_of_turn>", "<eos>"]
        }
    }

    /// The text `render(_:addGenerationPrompt: true)` appends to open the assistant's turn.
    public var generationPrompt: String {
        switch self {
        case .chatML: "<|im_start|>assistant\n"
        case .gemma: "<start_of_turn>model\n"
        }
    }

    /// The BOS text the reference template writes at the start, if any. `render` leaves it out
    /// unless `includeBOS` is true: the tokenizer adds BOS per `tokenizer.ggml.add_bos_token`.
    public var templateBOS: String? {
        switch self {
        case .chatML: nil
        case .gemma: "<bos>"
        }
    }

    /// Renders a conversation into prompt text.
    ///
    /// Rendering is lenient: it never fails. Conversations the reference template rejects (see
    /// ``validate(_:)``) still render: for `gemma`, every system message is folded into the next
    /// user turn (a system message with no user turn after it is dropped, as the reference
    /// template does with a system-only conversation) and roles are written in the order given.
    /// An empty conversation renders as just the generation prompt (if asked for): SmolLM2's
    /// template does the same, Qwen2.5's fails on it.
    ///
    /// - Parameters:
    ///   - addGenerationPrompt: append the opening of an assistant turn (``generationPrompt``).
    ///   - includeBOS: prefix ``templateBOS``. Leave false when the tokenizer adds BOS.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool, includeBOS: Bool = false) -> String {
        renderPrompt(messages, addGenerationPrompt: addGenerationPrompt, includeBOS: includeBOS).text
    }

    /// ``render(_:addGenerationPrompt:includeBOS:)`` with the UTF-8 byte ranges of the messages'
    /// own text marked, so that ``Tokenizer/encode(_:addBOS:)`` can read control-token text
    /// there literally: a question or another agent's reply that contains `<|im_end|>` must not
    /// close the turn.
    public func renderPrompt(_ messages: [ChatMessage], addGenerationPrompt: Bool, includeBOS: Bool = false) -> RenderedPrompt {
        var out = RenderedPrompt()
        out.text.reserveCapacity(messages.reduce(64) { $0 + $1.content.utf8.count + 32 })
        if includeBOS, let bos = templateBOS { out.appendTemplate(bos) }
        switch self {
        case .chatML(let defaultSystem):
            if let defaultSystem, let first = messages.first, first.role != .system {
                out.appendTemplate("<|im_start|>system\n")
                out.appendContent(defaultSystem)
                out.appendTemplate("<|im_end|>\n")
            }
            for message in messages {
                out.appendTemplate("<|im_start|>" + message.role.rawValue + "\n")
                out.appendContent(message.content)
                out.appendTemplate("<|im_end|>\n")
            }
        case .gemma:
            var pendingSystem: [String] = []
            for message in messages {
                switch message.role {
                case .system:
                    pendingSystem.append(message.content)
                case .user:
                    out.appendTemplate("<start_of_turn>user\n")
                    for system in pendingSystem {
                        out.appendContent(system)
                        out.appendTemplate("\n\n")
                    }
                    out.appendContent(Self.pythonStrip(message.content))
                    out.appendTemplate("<end_of_turn>\n")
                    pendingSystem = []
                case .assistant:
                    out.appendTemplate("<start_of_turn>model\n")
                    out.appendContent(Self.pythonStrip(message.content))
                    out.appendTemplate("<end_of_turn>\n")
                }
            }
        }
        if addGenerationPrompt { out.appendTemplate(generationPrompt) }
        return out
    }

    /// Checks that the reference template accepts the conversation, throwing where it would
    /// raise. ChatML accepts any sequence of roles. Gemma 3 accepts an optional leading system
    /// message followed by turns alternating user, assistant, user, … (starting with user).
    public func validate(_ messages: [ChatMessage]) throws(ChatTemplateError) {
        guard case .gemma = self else { return }
        let start = messages.first?.role == .system ? 1 : 0
        for index in messages.indices.dropFirst(start) {
            let role = messages[index].role
            if role == .system { throw .systemMessageNotFirst(index: index) }
            let expected: ChatRole = (index - start) % 2 == 0 ? .user : .assistant
            if role != expected { throw .rolesDoNotAlternate(index: index, found: role, expected: expected) }
        }
    }

    // MARK: - Detection from template text

    /// Chooses the template for a model from its `tokenizer.chat_template` text and its
    /// `general.architecture`.
    ///
    /// A template text, when present, decides: one containing `<|im_start|>` is ChatML (its
    /// default system prompt, if the template writes one, is extracted with
    /// ``chatMLDefaultSystem(inTemplate:)``); one containing `<start_of_turn>` is Gemma.
    /// Without a template, architecture `gemma3` means Gemma 3 (its GGUFs may carry none).
    /// Anything else throws ``ChatTemplateError/unknownFamily(architecture:templateExcerpt:)``.
    /// Detection is by marker only: a ChatML-family template with behaviour beyond the plain
    /// format (tools, reasoning blocks, …) is rendered as plain ChatML.
    public static func detect(chatTemplate: String?, architecture: String?) throws(ChatTemplateError) -> ChatTemplate {
        if let chatTemplate, !chatTemplate.isEmpty {
            if chatTemplate.contains("<|im_start|>") {
                return .chatML(defaultSystem: chatMLDefaultSystem(inTemplate: chatTemplate))
            }
            if chatTemplate.contains("<start_of_turn>") { return .gemma }
            throw .unknownFamily(architecture: architecture, templateExcerpt: String(chatTemplate.prefix(120)))
        }
        if architecture == "gemma3" { return .gemma }
        throw .unknownFamily(architecture: architecture, templateExcerpt: nil)
    }

    /// The default system prompt a ChatML Jinja template writes, or nil if it writes none.
    ///
    /// Looks, in each Jinja string literal (escapes decoded) and each stretch of plain template
    /// text, for `<|im_start|>system\n` followed by fixed text and `<|im_end|>` in the same
    /// piece: that fixed text is the default. A system turn assembled from a variable
    /// (`'<|im_start|>system\n' + messages[0]['content'] + …`) does not match. For Qwen2.5's
    /// template, whose default also appears alone in its tools branch, the full system-turn
    /// literal of the no-tools branch is what matches.
    public static func chatMLDefaultSystem(inTemplate template: String) -> String? {
        let opening = Array("<|im_start|>system\n".unicodeScalars)
        let closing = Array("<|im_end|>".unicodeScalars)
        let imStart = Array("<|im_start|>".unicodeScalars)
        for piece in JinjaPieces.split(template) {
            var from = 0
            while let open = piece.firstIndex(of: opening, from: from) {
                let bodyStart = open + opening.count
                guard let close = piece.firstIndex(of: closing, from: bodyStart) else { break }
                let body = piece[bodyStart..<close]
                if Array(body).firstIndex(of: imStart, from: 0) == nil {
                    var text = String.UnicodeScalarView()
                    text.append(contentsOf: body)
                    return String(text)
                }
                from = bodyStart
            }
        }
        return nil
    }

    // MARK: - Helpers

    /// Python's `str.strip()` with no argument (what Jinja's `trim` filter does): removes leading
    /// and trailing characters for which `str.isspace()` is true, working on Unicode scalars.
    static func pythonStrip(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isPythonSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isPythonSpace($0) })!
        if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return text }
        return String(scalars[first...last])
    }

    /// Python `str.isspace()`: Unicode White_Space plus the information separators U+001C–U+001F.
    static func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            true
        default:
            false
        }
    }
}

/// Errors from choosing or checking a chat template.
public enum ChatTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Neither the template text nor the architecture names a supported chat format.
    case unknownFamily(architecture: String?, templateExcerpt: String?)
    /// Gemma 3: a system message somewhere other than first.
    case systemMessageNotFirst(index: Int)
    /// Gemma 3: turns after the optional system message must go user, assistant, user, …
    case rolesDoNotAlternate(index: Int, found: ChatRole, expected: ChatRole)

    public var description: String {
        switch self {
        case .unknownFamily(let architecture, let excerpt):
            let arch = architecture.map { "'\($0)'" } ?? "(none)"
            let template = excerpt.map { "a tokenizer.chat_template beginning \($0.debugDescription)" }
                ?? "no tokenizer.chat_template"
            return "unknown chat format: architecture \(arch) with \(template) "
                + "(supported: ChatML templates, Gemma turn templates, architecture gemma3)"
        case .systemMessageNotFirst(let index):
            return "message \(index) is a system message; this chat format only accepts one as the first message"
        case .rolesDoNotAlternate(let index, let found, let expected):
            return "message \(index) has role \(found.rawValue), expected \(expected.rawValue): "
                + "roles must alternate user/assistant starting with user"
        }
    }
}

// MARK: - A minimal Jinja scanner (string literals and plain text only)

/// Splits Jinja template source into the pieces whose text could be emitted verbatim: stretches
/// of plain text outside tags, and string literals inside `{{ }}` / `{% %}` tags with their
/// escapes decoded as Jinja does (Python `unicode-escape`). Comments `{# #}` are skipped. This is
/// not a Jinja parser; it exists to find fixed text such as a default system prompt.
enum JinjaPieces {
    static func split(_ template: String) -> [[Unicode.Scalar]] {
        let s = Array(template.unicodeScalars)
        var pieces: [[Unicode.Scalar]] = []
        var text: [Unicode.Scalar] = []
        var i = 0
        func flushText() {
            if !text.isEmpty { pieces.append(text); text = [] }
        }
        while i < s.count {
            guard s[i] == "{", i + 1 < s.count, s[i + 1] == "{" || s[i + 1] == "%" || s[i + 1] == "#" else {
                text.append(s[i])
                i += 1
                continue
            }
            flushText()
            let kind = s[i + 1]
            i += 2
            let closer: Unicode.Scalar = kind == "{" ? "}" : kind
            if kind == "#" {
                while i < s.count, !(s[i] == "#" && i + 1 < s.count && s[i + 1] == "}") { i += 1 }
                i = min(i + 2, s.count)
                continue
            }
            while i < s.count {
                let c = s[i]
                if c == "'" || c == "\"" {
                    let (literal, next) = stringLiteral(s, quoteAt: i)
                    pieces.append(literal)
                    i = next
                } else if c == closer, i + 1 < s.count, s[i + 1] == "}" {
                    i += 2
                    break
                } else {
                    i += 1
                }
            }
        }
        flushText()
        return pieces
    }

    /// Decodes the literal whose opening quote is at `quoteAt`; returns it and the index after it.
    static func stringLiteral(_ s: [Unicode.Scalar], quoteAt start: Int) -> ([Unicode.Scalar], Int) {
        let quote = s[start]
        var out: [Unicode.Scalar] = []
        var i = start + 1
        while i < s.count, s[i] != quote {
            guard s[i] == "\\", i + 1 < s.count else {
                out.append(s[i])
                i += 1
                continue
            }
            let e = s[i + 1]
            i += 2
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\", "'", "\"": out.append(e)
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case "\n": break  // line continuation
            case "x", "u", "U":
                let width = e == "x" ? 2 : e == "u" ? 4 : 8
                if i + width <= s.count,
                    let value = UInt32(String(String.UnicodeScalarView(s[i..<(i + width)])), radix: 16),
                    let scalar = Unicode.Scalar(value)
                {
                    out.append(scalar)
                    i += width
                } else {
                    out.append("\\")
                    out.append(e)
                }
            default:
                out.append("\\")
                out.append(e)
            }
        }
        return (out, min(i + 1, s.count))
    }
}

extension Array where Element == Unicode.Scalar {
    /// The first index at or after `from` where `pattern` occurs.
    fileprivate func firstIndex(of pattern: [Unicode.Scalar], from: Int) -> Int? {
        guard !pattern.isEmpty, count >= pattern.count, from <= count - pattern.count else { return nil }
        var i = from
        while i <= count - pattern.count {
            if self[i] == pattern[0], self[i..<(i + pattern.count)].elementsEqual(pattern) { return i }
            i += 1
        }
        return nil
    }
}
