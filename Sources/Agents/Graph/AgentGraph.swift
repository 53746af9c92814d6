// The agent graph as a runnable value: loaded models, inner links and outer links joined by the
// structure of a validated `GraphDefinition`. One runner executes it, one objective trains it.
import Links
import Models
import RoleData
import Training

/// Nodes (frozen model + inner link + prompts), edges (outer link into a named slot) and the
/// schedule. Widths and parameter prefixes are checked at construction.
public struct AgentGraph: Sendable {
    public struct Node: Sendable {
        public let id: String
        public let model: LanguageModel
        public let inner: InnerLink
        public let prompts: NodePrompts
        /// The data field this node is teacher-forced on (outer training).
        public let target: String?
        public let decoder: NodeDecoder

        public init(id: String, model: LanguageModel, inner: InnerLink, prompts: NodePrompts, target: String? = nil,
                    decoder: NodeDecoder = .plain) {
            self.id = id
            self.model = model
            self.inner = inner
            self.prompts = prompts
            self.target = target
            self.decoder = decoder
        }
    }

    public struct Edge: Sendable {
        /// Indices into ``AgentGraph/nodes``.
        public let from: Int
        public let to: Int
        public let slot: String
        /// `D_from → D_to`.
        public let link: OuterLink
        public let direction: GraphDefinition.Direction

        public init(from: Int, to: Int, slot: String, link: OuterLink, direction: GraphDefinition.Direction) {
            self.from = from
            self.to = to
            self.slot = slot
            self.link = link
            self.direction = direction
        }

        /// The slot's marker string in rendered prompts.
        public var marker: String { PromptFill.marker(slot: slot) }
    }

    public let nodes: [Node]
    public let edges: [Edge]
    /// Node indices in the order they act within a round.
    public let order: [Int]
    /// The answering node's index.
    public let answer: Int
    /// The definition the graph was built from (prompts, instructions, defaults, rounds).
    public let definition: GraphDefinition
    /// The answer form the prompts ask for (nil: as each question looks; ``GraphRunner`` sets it
    /// per run, so code tasks get the code instruction).
    public var answerForm: AnswerForm?
    /// The system message of every node.
    public var systemPrompt: String { definition.systemPrompt }
    /// The answering node decodes every round (the mixture style's summarizer).
    public var decodeEveryRound: Bool { definition.schedule.decodeEveryRound }

    /// Builds the graph; `definition` must be valid (``GraphDefinition/validate(file:)``) and
    /// `nodes` must follow its node order.
    public init(definition: GraphDefinition, nodes: [Node], links: [OuterLink], file: String = "") throws(GraphError) {
        precondition(nodes.count == definition.nodes.count && links.count == definition.edges.count)
        let index = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1.id, $0) })
        var edges: [Edge] = []
        for (spec, link) in zip(definition.edges, links) {
            guard let from = index[spec.from], let to = index[spec.to] else {
                throw .invalid(file: file, place: "edge '\(spec.from)' → '\(spec.to)'", problem: "unknown node")
            }
            let (ds, dt) = (nodes[from].model.configuration.width, nodes[to].model.configuration.width)
            guard link.inputWidth == ds, link.outputWidth == dt else {
                throw .widthMismatch(file: file, place: "edge '\(spec.from)' → '\(spec.to)'",
                                     detail: "its link maps \(link.inputWidth) → \(link.outputWidth), the models are \(ds) and \(dt) wide")
            }
            edges.append(Edge(from: from, to: to, slot: spec.slot, link: link, direction: spec.direction))
        }
        for node in nodes where node.inner.width != node.model.configuration.width {
            throw .widthMismatch(file: file, place: "node '\(node.id)'",
                                 detail: "its inner link is \(node.inner.width) wide, the model \(node.model.configuration.width)")
        }
        let names = links.flatMap { $0.parameters.map(\.name) }
        guard Set(names).count == names.count else {
            throw .invalid(file: file, place: "edges", problem: "outer-link parameter names collide; each link needs its own prefix")
        }
        self.nodes = nodes
        self.edges = edges
        order = definition.schedule.order.map { index[$0]! }
        answer = index[definition.schedule.answer]!
        self.definition = definition
    }

    /// The node called `id`.
    public func node(_ id: String) -> Int? { nodes.firstIndex { $0.id == id } }

    /// Edges into node `i` that deliver in `round` (feedback edges from round 2 on).
    func incoming(_ i: Int, round: Int) -> [Edge] {
        edges.filter { $0.to == i && ($0.direction == .forward || round >= 2) }
    }

    /// The nodes that act in `round` of `rounds`, in order: all of them, except that the last
    /// round ends with the answering node (what would come after it cannot reach the answer).
    func acting(round: Int, of rounds: Int) -> [Int] {
        round == rounds ? Array(order.prefix { $0 != answer }) + [answer] : order
    }

    /// Whether node `i`'s output in `round` of `rounds` is read by someone: a forward edge into a
    /// node in `acting`, or a feedback edge when a next round follows.
    func outputNeeded(_ i: Int, round: Int, of rounds: Int, acting: [Int]) -> Bool {
        edges.contains { $0.from == i && ($0.direction == .forward ? acting.contains($0.to) : round < rounds) }
    }

    /// Every outer link's parameters, in edge order (the trainable set of outer training).
    public var outerParameters: ParameterSet {
        var all = ParameterSet()
        for edge in edges { try! all.append(contentsOf: edge.link.parameters) }  // names unique: checked by init
        return all
    }

    /// The user message of node `i` in `round` (``GraphDefinition/userPrompt(_:question:round:slotTexts:)``).
    public func userPrompt(_ i: Int, question: String, round: Int, slotTexts: [String: String] = [:]) -> String {
        definition.userPrompt(i, question: question, round: round, slotTexts: slotTexts, form: answerForm)
    }

    /// The single-agent baseline's user message.
    public func singleUserPrompt(question: String) -> String { definition.singleUserPrompt(question: question, form: answerForm) }

    /// Node `i`'s inner-training conversation from `row` (``GraphDefinition/trainingPair(_:row:)``).
    public func trainingPair(_ i: Int, row: DataRow) -> TrainingPair? { definition.trainingPair(i, row: row) }
}
