// What a run records and reports: per-stage accounting (one node in one round), the result of a
// run, and the stream of events a progress line or a server consumes while it runs.

/// Token and time accounting of one stage (one node in one round).
public struct StageRecord: Sendable, Codable, Equatable {
    public var round: Int
    /// The node's id ("role" in files written before agent graphs).
    public var node: String
    public var promptTokens: Int
    public var latentInputs: Int
    public var latentSteps: Int
    public var generatedTokens: Int
    public var seconds: Double
    /// The text the stage decoded (nil for a latent rollout): with the text method, what each
    /// node passed on.
    public var text: String?
    /// Tool calls the stage's tool loop made (nil without a tool loop).
    public var toolCalls: [ToolCallRecord]?
    /// True when the stage's result came from an identical stage already computed (a
    /// ``StageMemo`` hit): its tokens, text and `seconds` are that computation's.
    public var reused: Bool?

    public init(round: Int, node: String, promptTokens: Int, latentInputs: Int, latentSteps: Int, generatedTokens: Int,
                seconds: Double, text: String? = nil, toolCalls: [ToolCallRecord]? = nil) {
        self.round = round
        self.node = node
        self.promptTokens = promptTokens
        self.latentInputs = latentInputs
        self.latentSteps = latentSteps
        self.generatedTokens = generatedTokens
        self.seconds = seconds
        self.text = text
        self.toolCalls = toolCalls
    }

    enum CodingKeys: String, CodingKey { case round, node, role, promptTokens, latentInputs, latentSteps, generatedTokens, seconds, text, toolCalls, reused }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        round = try c.decode(Int.self, forKey: .round)
        node = try c.decodeIfPresent(String.self, forKey: .node) ?? c.decode(String.self, forKey: .role)
        promptTokens = try c.decode(Int.self, forKey: .promptTokens)
        latentInputs = try c.decode(Int.self, forKey: .latentInputs)
        latentSteps = try c.decode(Int.self, forKey: .latentSteps)
        generatedTokens = try c.decode(Int.self, forKey: .generatedTokens)
        seconds = try c.decode(Double.self, forKey: .seconds)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        toolCalls = try c.decodeIfPresent([ToolCallRecord].self, forKey: .toolCalls)
        reused = try c.decodeIfPresent(Bool.self, forKey: .reused)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(round, forKey: .round)
        try c.encode(node, forKey: .node)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(latentInputs, forKey: .latentInputs)
        try c.encode(latentSteps, forKey: .latentSteps)
        try c.encode(generatedTokens, forKey: .generatedTokens)
        try c.encode(seconds, forKey: .seconds)
        try c.encodeIfPresent(text, forKey: .text)
        try c.encodeIfPresent(toolCalls, forKey: .toolCalls)
        if reused == true { try c.encode(true, forKey: .reused) }
    }
}

/// One tool call of a tool loop: what was asked, what came back, and whether a limit cut it.
public struct ToolCallRecord: Sendable, Codable, Equatable {
    public var tool: ToolKind
    public var input: String
    public var result: String
    /// Why the call failed or was cut (timeout, memory, output truncated, call limit), if it was.
    public var limit: String?

    public init(tool: ToolKind, input: String, result: String, limit: String? = nil) {
        self.tool = tool
        self.input = input
        self.result = result
        self.limit = limit
    }
}

/// The answer of a run, with per-stage accounting.
public struct SystemRunResult: Sendable {
    public var text: String
    /// With several samples (pass@k): samples 2 … k of the final decode (``text`` is sample 1).
    public var alternatives: [String] = []
    public var stages: [StageRecord]
    public var generatedTokens: Int { stages.reduce(0) { $0 + $1.generatedTokens } }
    public var latentSteps: Int { stages.reduce(0) { $0 + $1.latentSteps } }
    public var promptTokens: Int { stages.reduce(0) { $0 + $1.promptTokens } }

    public init(text: String, alternatives: [String] = [], stages: [StageRecord]) {
        self.text = text
        self.alternatives = alternatives
        self.stages = stages
    }
}

/// What a stage does.
public enum StageKind: String, Sendable, Codable {
    /// m latent steps through the node's inner link.
    case latent
    /// Text generation.
    case decode
}

/// Events of a run, in order, delivered synchronously on the running thread.
public enum RunEvent: Sendable {
    case stageStarted(node: String, round: Int, kind: StageKind)
    /// A piece of decoded text (never broken UTF-8).
    case text(node: String, round: Int, chunk: String)
    case toolCall(node: String, round: Int, call: ToolCallRecord)
    case stageFinished(StageRecord)
}
