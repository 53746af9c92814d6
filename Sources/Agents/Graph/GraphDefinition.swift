// The system file (JSON) as an agent graph: nodes (model, inner link, prompt templates, training
// target, decoder), edges (slot, outer link, forward or feedback) and a schedule. This project's
// own format; the four styles of spec §4 are presets written in it (`Resources/Presets`).
import Foundation
import Links

/// An agent graph as written in a system file, before any model is loaded.
///
/// ```json
/// {"style": "sequential",
///  "system_prompt": "You are a helpful assistant.",
///  "nodes": [{"id": "planner", "model": "qwen2.5-0.5b", "inner_link": "links/planner-inner",
///             "prompts": {"first_round": "… {question} …", "later_rounds": "… {slot:feedback} …"},
///             "target": "plan"}, …],
///  "edges": [{"from": "planner", "to": "refiner", "slot": "planner", "link": "outer_ln_res_adapter",
///             "checkpoint": "links/outer"}, …,
///            {"from": "solver", "to": "planner", "slot": "feedback", "direction": "feedback", …}],
///  "schedule": {"order": ["planner", "refiner", "solver"], "answer": "solver", "rounds": 2},
///  "instructions": {"free": "… \\boxed{} …", "choice": "… \\boxed{A} …"},
///  "single_prompt": "… {question} … {instruction}",
///  "defaults": {"latent_steps": 16, "max_tokens": 256, "max_latent_tokens": 80}}
/// ```
///
/// Templates are text with `{question}`, `{round}`, `{instruction}` and `{slot:NAME}`
/// placeholders; a slot is where the edge naming it splices its latent rows (or, for the text
/// method, the source node's text). Paths are relative to the file. Every key is checked: an
/// unknown one is an error naming its path and the nearest valid key.
public struct GraphDefinition: Sendable, Equatable, Codable {
    /// The collaboration style (spec §4); informational, the graph itself says what runs.
    public enum Style: String, Sendable, Codable, CaseIterable {
        case sequential, mixture, distillation, deliberation, custom
    }

    public struct Node: Sendable, Equatable, Codable {
        /// Unique; names the node's outer-link parameters ("<from>_to_<to>.").
        public var id: String
        /// A registry name or a GGUF path (relative to the file).
        public var model: String
        /// Inner-link checkpoint directory; nil = freshly initialised (untrained).
        public var innerLink: String?
        public var prompts: NodePrompts
        /// The data-row field this node is teacher-forced on in outer training (spec §2.4/§2.5).
        public var target: String?
        public var decoder: NodeDecoder

        public init(id: String, model: String, innerLink: String? = nil, prompts: NodePrompts, target: String? = nil,
                    decoder: NodeDecoder = .plain) {
            self.id = id
            self.model = model
            self.innerLink = innerLink
            self.prompts = prompts
            self.target = target
            self.decoder = decoder
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, model, innerLink = "inner_link", prompts, target, decoder
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            model = try c.decode(String.self, forKey: .model)
            innerLink = try c.decodeIfPresent(String.self, forKey: .innerLink)
            prompts = try c.decode(NodePrompts.self, forKey: .prompts)
            target = try c.decodeIfPresent(String.self, forKey: .target)
            self.decoder = try c.decodeIfPresent(NodeDecoder.self, forKey: .decoder) ?? .plain
        }
    }

    /// Forward edges deliver within a round (source earlier in the order); feedback edges deliver
    /// the source's output of round r to the target in round r + 1.
    public enum Direction: String, Sendable, Codable, CaseIterable { case forward, feedback }

    public struct Edge: Sendable, Equatable, Codable {
        public var from: String
        public var to: String
        /// The `{slot:NAME}` of the target's template this edge fills.
        public var slot: String
        public var link: OuterLinkKind
        /// Checkpoint directory holding parameters "<from>_to_<to>.…"; nil = freshly initialised.
        public var checkpoint: String?
        public var direction: Direction

        public init(from: String, to: String, slot: String, link: OuterLinkKind = .default, checkpoint: String? = nil,
                    direction: Direction = .forward) {
            self.from = from
            self.to = to
            self.slot = slot
            self.link = link
            self.checkpoint = checkpoint
            self.direction = direction
        }

        /// The prefix of this edge's outer-link parameters.
        public var parameterPrefix: String { "\(from)_to_\(to)." }

        enum CodingKeys: String, CodingKey, CaseIterable { case from, to, slot, link, checkpoint, direction }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            from = try c.decode(String.self, forKey: .from)
            to = try c.decode(String.self, forKey: .to)
            slot = try c.decode(String.self, forKey: .slot)
            let name = try c.decodeIfPresent(String.self, forKey: .link) ?? OuterLinkKind.default.rawValue
            do { link = try OuterLinkKind(name: name) } catch {
                throw DecodingError.dataCorruptedError(forKey: .link, in: c, debugDescription: "\(error)")
            }
            checkpoint = try c.decodeIfPresent(String.self, forKey: .checkpoint)
            direction = try c.decodeIfPresent(Direction.self, forKey: .direction) ?? .forward
        }
    }

    public struct Schedule: Sendable, Equatable, Codable {
        /// Node ids in the order they act within a round.
        public var order: [String]
        /// The node whose text is the answer.
        public var answer: String
        public var rounds: Int
        /// The answering node decodes text every round (only the last is kept), as the mixture
        /// style's summarizer does (spec §4.2).
        public var decodeEveryRound: Bool

        public init(order: [String], answer: String, rounds: Int = 1, decodeEveryRound: Bool = false) {
            self.order = order
            self.answer = answer
            self.rounds = rounds
            self.decodeEveryRound = decodeEveryRound
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case order, answer, rounds, decodeEveryRound = "decode_every_round"
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            order = try c.decode([String].self, forKey: .order)
            answer = try c.decode(String.self, forKey: .answer)
            rounds = try c.decodeIfPresent(Int.self, forKey: .rounds) ?? 1
            decodeEveryRound = try c.decodeIfPresent(Bool.self, forKey: .decodeEveryRound) ?? false
        }
    }

    /// The answer-format instructions `{instruction}` expands to.
    public struct Instructions: Sendable, Equatable, Codable {
        /// For free-form answers.
        public var free: String
        /// When the question lists options "A." … "D.".
        public var choice: String
        /// For code tasks (the question is a function to complete); optional in system files.
        public var code: String

        /// The built-in code-task wording.
        public static let codeDefault = "Complete the Python function above. Reply with the whole function, "
            + "including its signature, in one ```python code block."

        public init(free: String, choice: String, code: String = Instructions.codeDefault) {
            self.free = free
            self.choice = choice
            self.code = code
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case free, choice, code }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            free = try c.decode(String.self, forKey: .free)
            choice = try c.decode(String.self, forKey: .choice)
            code = try c.decodeIfPresent(String.self, forKey: .code) ?? Self.codeDefault
        }
    }

    public struct Defaults: Sendable, Equatable, Codable {
        public var latentSteps = 16
        public var maxTokens = 256
        /// Latent rows an outer link passes on in training (spec §2.4's max_latent_tokens).
        public var maxLatentTokens = 80

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case latentSteps = "latent_steps", maxTokens = "max_tokens", maxLatentTokens = "max_latent_tokens"
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            latentSteps = try c.decodeIfPresent(Int.self, forKey: .latentSteps) ?? latentSteps
            maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? maxTokens
            maxLatentTokens = try c.decodeIfPresent(Int.self, forKey: .maxLatentTokens) ?? maxLatentTokens
        }
    }

    public var style: Style
    /// The system message of every node.
    public var systemPrompt: String
    public var nodes: [Node]
    public var edges: [Edge]
    public var schedule: Schedule
    public var instructions: Instructions
    /// The single-agent baseline's user template: `{question}`, `{instruction}`.
    public var singlePrompt: String
    public var defaults: Defaults
    /// A JSONL document collection (`title`, `text`) for a tool loop's search tool (relative path).
    public var documents: String?

    public init(style: Style, systemPrompt: String, nodes: [Node], edges: [Edge], schedule: Schedule,
                instructions: Instructions, singlePrompt: String, defaults: Defaults = .init(), documents: String? = nil) {
        self.style = style
        self.systemPrompt = systemPrompt
        self.nodes = nodes
        self.edges = edges
        self.schedule = schedule
        self.instructions = instructions
        self.singlePrompt = singlePrompt
        self.defaults = defaults
        self.documents = documents
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case style, systemPrompt = "system_prompt", nodes, edges, schedule, instructions, singlePrompt = "single_prompt"
        case defaults, documents
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        style = try c.decodeIfPresent(Style.self, forKey: .style) ?? .custom
        systemPrompt = try c.decodeIfPresent(String.self, forKey: .systemPrompt) ?? "You are a helpful assistant."
        nodes = try c.decode([Node].self, forKey: .nodes)
        edges = try c.decodeIfPresent([Edge].self, forKey: .edges) ?? []
        schedule = try c.decode(Schedule.self, forKey: .schedule)
        instructions = try c.decodeIfPresent(Instructions.self, forKey: .instructions) ?? .math
        singlePrompt = try c.decodeIfPresent(String.self, forKey: .singlePrompt) ?? Self.defaultSinglePrompt
        defaults = try c.decodeIfPresent(Defaults.self, forKey: .defaults) ?? Defaults()
        documents = try c.decodeIfPresent(String.self, forKey: .documents)
    }

    /// The single-agent prompt when a file gives none.
    public static let defaultSinglePrompt = """
        Solve the question below.
        Question:
        {question}

        {instruction}
        """
}

extension GraphDefinition.Instructions {
    /// Math answers in `\boxed{}` (spec §4.1's solver instruction, our wording).
    public static let math = GraphDefinition.Instructions(
        free: "Solve the question with the information above, and put your final answer inside \\boxed{}, for example \\boxed{1}.",
        choice: "Solve the question with the information above, and put the letter of your final choice inside \\boxed{}, "
            + "for example \\boxed{A}.")
}
