// A node's prompt templates (first round / later rounds) with named slots ({question}, {round},
// {instruction}, {slot:NAME}, filled by PromptFill), and how the node decodes (plain or a tool loop).

import RoleData

/// The user-message templates of one node.
public struct NodePrompts: Sendable, Equatable, Codable {
    /// Round 1 (and every round when ``laterRounds`` is nil): forward slots only.
    public var firstRound: String
    /// Rounds ≥ 2: may also hold feedback slots.
    public var laterRounds: String?

    public init(firstRound: String, laterRounds: String? = nil) {
        self.firstRound = firstRound
        self.laterRounds = laterRounds
    }

    /// The template of `round` (1-based).
    public func template(round: Int) -> String { round >= 2 ? (laterRounds ?? firstRound) : firstRound }

    enum CodingKeys: String, CodingKey, CaseIterable { case firstRound = "first_round", laterRounds = "later_rounds" }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        firstRound = try c.decode(String.self, forKey: .firstRound)
        laterRounds = try c.decodeIfPresent(String.self, forKey: .laterRounds)
    }
}

/// How a node decodes text when it speaks.
public enum NodeDecoder: Sendable, Equatable, Codable {
    /// Plain generation.
    case plain
    /// Generation interleaved with tool calls (spec §4.4): `<python>…</python>` and
    /// `<search>…</search>`, each answered by `<result>…</result>`.
    case toolLoop(ToolLoopOptions)

    public init(from decoder: any Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            guard name == "plain" else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                        debugDescription: "unknown decoder \"\(name)\" (plain, or {\"tool_loop\": {…}})"))
            }
            self = .plain
            return
        }
        try StrictKeys.check(decoder, allowed: ["tool_loop"])
        let c = try decoder.container(keyedBy: AnyKey.self)
        self = .toolLoop(try c.decode(ToolLoopOptions.self, forKey: AnyKey(stringValue: "tool_loop")))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .plain:
            var c = encoder.singleValueContainer()
            try c.encode("plain")
        case .toolLoop(let options):
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encode(options, forKey: AnyKey(stringValue: "tool_loop"))
        }
    }
}

/// The tools a tool loop offers.
public enum ToolKind: String, Sendable, Codable, CaseIterable {
    /// Python executed in the sandbox.
    case python
    /// BM25 search over the system's local document collection.
    case search
}

public struct ToolLoopOptions: Sendable, Equatable, Codable {
    public var tools: [ToolKind]
    /// Calls after which a "tool limit reached" result ends the loop (reference: 5).
    public var maxCalls: Int
    /// Also run a markdown ```python block as a Python call when its closing fence is written
    /// (not in the reference, whose 4B agents use the tags; models of 0.5B write fences).
    public var markdownFences: Bool

    public init(tools: [ToolKind] = ToolKind.allCases, maxCalls: Int = 5, markdownFences: Bool = true) {
        self.tools = tools
        self.maxCalls = maxCalls
        self.markdownFences = markdownFences
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case tools, maxCalls = "max_calls", markdownFences = "markdown_fences" }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tools = try c.decodeIfPresent([ToolKind].self, forKey: .tools) ?? ToolKind.allCases
        maxCalls = try c.decodeIfPresent(Int.self, forKey: .maxCalls) ?? 5
        markdownFences = try c.decodeIfPresent(Bool.self, forKey: .markdownFences) ?? true
    }
}
