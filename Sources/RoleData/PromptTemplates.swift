/// The user prompts of the sequential style as data, with the latent slots as markers.
///
/// Each template is plain text with `{name}` placeholders, filled in one pass (text inserted for a
/// placeholder is never scanned again, so a question that contains "{plan}" stays as written):
///
/// | placeholder | filled with |
/// |---|---|
/// | `{question}` | the question |
/// | `{round}` | the round number (planner, rounds ≥ 2) |
/// | `{slot}` | the role's ``LatentSlot`` marker, or real text in place of it |
/// | `{instruction}` | ``solverInstruction`` or, for choice questions, ``solverChoiceInstruction`` |
///
/// ``sequentialMath`` holds our wording of the reference's math prompts (spec §4.1). Its structure
/// follows the reference line for line, but the words are our own, so checkpoints trained on the
/// reference's exact strings will not see the prompts they were trained with. One deliberate
/// difference: the reference says "This is round 2." in every later round; we state the real round.
public struct PromptTemplates: Sendable, Hashable {
    /// The system message of every role.
    public var system: String
    /// The planner's prompt in round 1 (no slot).
    public var plannerFirstRound: String
    /// The planner's prompt in rounds ≥ 2; `{slot}` is the solver's feedback.
    public var plannerLaterRound: String
    /// The refiner's prompt; `{slot}` is the planner's plan.
    public var refiner: String
    /// The solver's prompt; `{slot}` is the refined plan, `{instruction}` the answer format.
    public var solver: String
    /// The solver's closing instruction for free-form answers.
    public var solverInstruction: String
    /// The solver's closing instruction when the question lists options "A." … "D.".
    public var solverChoiceInstruction: String
    /// The single-agent baseline's prompt (the final agent alone): `{question}`, `{instruction}`.
    public var singleAgent = """
        Solve the question below.
        Question:
        {question}

        {instruction}
        """

    public init(
        system: String, plannerFirstRound: String, plannerLaterRound: String, refiner: String,
        solver: String, solverInstruction: String, solverChoiceInstruction: String
    ) {
        self.system = system
        self.plannerFirstRound = plannerFirstRound
        self.plannerLaterRound = plannerLaterRound
        self.refiner = refiner
        self.solver = solver
        self.solverInstruction = solverInstruction
        self.solverChoiceInstruction = solverChoiceInstruction
    }

    /// The latent slot in `role`'s prompt for `round` (1-based), or nil where it has none
    /// (the planner in round 1).
    public func slot(for role: AgentRole, round: Int = 1) -> LatentSlot? {
        switch role {
        case .planner: round >= 2 ? .feedback : nil
        case .refiner: .planner
        case .solver: .refined
        }
    }

    /// The user text for `role` in `round` (1-based).
    ///
    /// With `slotText` nil the role's ``LatentSlot`` marker is left in the text for latent
    /// splicing; otherwise `slotText` takes its place as real text (how inner-link training and
    /// text-only baselines see the other agents' output). The planner's round-1 prompt has no
    /// slot and ignores `slotText`.
    public func render(role: AgentRole, question: String, round: Int = 1, slotText: String? = nil) -> String {
        precondition(round >= 1, "rounds are numbered from 1")
        let template: String
        switch role {
        case .planner: template = round >= 2 ? plannerLaterRound : plannerFirstRound
        case .refiner: template = refiner
        case .solver: template = solver
        }
        var values = ["question": question, "round": String(round)]
        if let slot = slot(for: role, round: round) { values["slot"] = slotText ?? slot.marker }
        if role == .solver {
            values["instruction"] = Self.isChoiceQuestion(question) ? solverChoiceInstruction : solverInstruction
        }
        return Self.fill(template, with: values)
    }

    /// The inner-link training conversation for `role` built from `example` (spec §1.3): the
    /// planner's round-1 prompt with the question; the refiner's prompt with the plan inlined as
    /// real text; the solver's prompt with the refined plan inlined as real text. The target is
    /// the role's field of `example` (``AgentRole/targetField``).
    public func trainingPair(for role: AgentRole, example: RoleExample) -> TrainingPair {
        let slotText: String? =
            switch role {
            case .planner: nil
            case .refiner: example.plan
            case .solver: example.refinedPlan
            }
        return TrainingPair(
            system: system, user: render(role: role, question: example.question, slotText: slotText),
            target: example.target(for: role))
    }

    /// The single-agent baseline's user text for `question`.
    public func renderSingleAgent(question: String) -> String {
        Self.fill(singleAgent, with: [
            "question": question,
            "instruction": Self.isChoiceQuestion(question) ? solverChoiceInstruction : solverInstruction,
        ])
    }

    /// Whether `question` is multiple choice (``PromptFill/isChoiceQuestion(_:)``).
    public static func isChoiceQuestion(_ question: String) -> Bool { PromptFill.isChoiceQuestion(question) }

    /// Replaces each `{name}` whose name is a key of `values` (``PromptFill/fill(_:with:)``).
    static func fill(_ template: String, with values: [String: String]) -> String { PromptFill.fill(template, with: values) }
}

/// One inner-training conversation: [system, user, assistant = target].
public struct TrainingPair: Sendable, Hashable {
    /// The system message.
    public var system: String
    /// The user message (no slot markers: other agents' texts are inlined).
    public var user: String
    /// The assistant message the link is trained to predict.
    public var target: String

    public init(system: String, user: String, target: String) {
        self.system = system
        self.user = user
        self.target = target
    }
}
