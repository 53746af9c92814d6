/// One row of role-specific training data for the sequential (planner → refiner → solver) style.
///
/// The three agents learn different targets from the same question (spec §1.3): the planner learns
/// ``plan``, the refiner (the critic) learns ``refinedPlan`` from the question and the plan, and the
/// solver learns ``answer`` from the question and the refined plan. ``target(for:)`` picks the field.
///
/// On disk a row is one JSON object per line (see ``RoleJSONL``). The keys are snake_case and are
/// written in the order of ``Field/allCases``:
///
/// ```json
/// {"question":"…","plan":"…","refined_plan":"…","answer":"…","final_answer":"18","source":"…"}
/// ```
///
/// The four texts are required and must be non-empty; the other fields are optional, and a JSON
/// `null` reads as absent. Keys the schema does not know are ignored when reading, so rows from
/// richer datasets (the reference's `answer_field`, `domain`, …) load too.
public struct RoleExample: Sendable, Hashable, Codable {
    /// The problem as the user states it.
    public var question: String
    /// The planner's target: an initial plan, as "Step 1: …" lines.
    public var plan: String
    /// The refiner's target: the plan with its quantities made precise. JSON key `refined_plan`.
    public var refinedPlan: String
    /// The solver's target: a worked solution ending in the final answer (`\boxed{…}` for math).
    public var answer: String
    /// The bare final answer used for grading (for math, the content the solver should box).
    /// JSON key `final_answer`.
    public var finalAnswer: String?
    /// The task kind as in the reference data: "complete" (stdin program) or "function" for code
    /// rows; absent for math.
    public var type: String?
    /// For functional code tasks, the function the solver must implement. JSON key `fn_name`.
    public var fnName: String?
    /// Where the row came from, e.g. "synthetic-arithmetic" or "reasoning-gym/gsm_symbolic".
    public var source: String?
    /// Which generator or template produced the row, e.g. "gsm_symbolic/12". Splits that must keep
    /// templates out of training group rows by this field.
    public var generator: String?

    public init(
        question: String, plan: String, refinedPlan: String, answer: String,
        finalAnswer: String? = nil, type: String? = nil, fnName: String? = nil,
        source: String? = nil, generator: String? = nil
    ) {
        self.question = question
        self.plan = plan
        self.refinedPlan = refinedPlan
        self.answer = answer
        self.finalAnswer = finalAnswer
        self.type = type
        self.fnName = fnName
        self.source = source
        self.generator = generator
    }

    /// The text an agent in `role` is trained to produce (spec §1.3's "target field").
    public func target(for role: AgentRole) -> String {
        switch role {
        case .planner: plan
        case .refiner: refinedPlan
        case .solver: answer
        }
    }

    /// The schema's fields in the order the writer emits them, with their JSON keys.
    public enum Field: String, CaseIterable, Sendable, CodingKey {
        case question
        case plan
        case refinedPlan = "refined_plan"
        case answer
        case finalAnswer = "final_answer"
        case type
        case fnName = "fn_name"
        case source
        case generator

        /// The key as it appears in JSON.
        public var key: String { rawValue }

        /// Whether a row must carry this field as a non-empty string.
        public var isRequired: Bool {
            switch self {
            case .question, .plan, .refinedPlan, .answer: true
            case .finalAnswer, .type, .fnName, .source, .generator: false
            }
        }
    }

    /// The value of `field`, or nil where an optional field is absent.
    public subscript(field: Field) -> String? {
        switch field {
        case .question: question
        case .plan: plan
        case .refinedPlan: refinedPlan
        case .answer: answer
        case .finalAnswer: finalAnswer
        case .type: type
        case .fnName: fnName
        case .source: source
        case .generator: generator
        }
    }

    // MARK: - Codable (same keys as the JSONL files; JSONL itself goes through RoleJSONL)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Field.self)
        question = try c.decode(String.self, forKey: .question)
        plan = try c.decode(String.self, forKey: .plan)
        refinedPlan = try c.decode(String.self, forKey: .refinedPlan)
        answer = try c.decode(String.self, forKey: .answer)
        finalAnswer = try c.decodeIfPresent(String.self, forKey: .finalAnswer)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        fnName = try c.decodeIfPresent(String.self, forKey: .fnName)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        generator = try c.decodeIfPresent(String.self, forKey: .generator)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Field.self)
        for field in Field.allCases {
            if let value = self[field] { try c.encode(value, forKey: field) }
        }
    }
}
