// A node's messages from the graph's templates: the user prompt of a round (slots as markers or
// as the source nodes' texts), the single-agent prompt, and the inner-training conversation.
import RoleData

extension GraphDefinition {
    /// The edges into node `i` that deliver in `round` (feedback edges from round 2 on).
    func incoming(_ i: Int, round: Int) -> [Edge] {
        edges.filter { $0.to == nodes[i].id && ($0.direction == .forward || round >= 2) }
    }

    /// The user message of node `i` in `round`: slots hold their markers (``PromptFill/marker(slot:)``),
    /// or `slotTexts[slot]` where given (the text method; inner-link training data). `form` picks
    /// the instruction (nil: as the question looks, choice or free).
    public func userPrompt(_ i: Int, question: String, round: Int, slotTexts: [String: String] = [:], form: AnswerForm? = nil) -> String {
        var values = ["question": question, "round": String(round), "instruction": instruction(for: question, form: form)]
        for edge in incoming(i, round: round) { values["slot:\(edge.slot)"] = slotTexts[edge.slot] ?? PromptFill.marker(slot: edge.slot) }
        return PromptFill.fill(nodes[i].prompts.template(round: round), with: values)
    }

    /// The single-agent baseline's user message.
    public func singleUserPrompt(question: String, form: AnswerForm? = nil) -> String {
        PromptFill.fill(singlePrompt, with: ["question": question, "instruction": instruction(for: question, form: form)])
    }

    /// The answer-format instruction for `question`: the code wording for code tasks, else the
    /// choice wording for choice questions (letter tasks, or a question listing options) and the
    /// free one otherwise.
    func instruction(for question: String, form: AnswerForm? = nil) -> String {
        switch form {
        case .code: instructions.code
        case .letter: instructions.choice
        case .math, .latex, nil: PromptFill.isChoiceQuestion(question) ? instructions.choice : instructions.free
        }
    }

    /// Node `i`'s inner-training conversation from `row` (spec §1.3): its round-1 prompt with each
    /// slot holding the source node's target text, and its own target as the reply; nil when the
    /// row lacks a needed field.
    public func trainingPair(_ i: Int, row: DataRow) -> TrainingPair? {
        guard let field = nodes[i].target, let target = row[field] else { return nil }
        var texts: [String: String] = [:]
        for edge in incoming(i, round: 1) {
            guard let source = nodes.first(where: { $0.id == edge.from })?.target, let text = row[source] else { return nil }
            texts[edge.slot] = text
        }
        return TrainingPair(system: systemPrompt, user: userPrompt(i, question: row.question, round: 1, slotTexts: texts), target: target)
    }
}
