// The "prompts" block of a system definition file: each agent's prompt template, as text with
// the placeholders of `PromptTemplates`. This project's own format.
import RoleData

extension SystemDefinition {
    /// Prompt templates that replace parts of the built-in sequential-math wording
    /// (``PromptTemplates/sequentialMath``); a key left out keeps the built-in text.
    ///
    /// ```json
    /// "prompts": {"solver_instruction": "Solve the question step by step, then put the final answer inside \\boxed{}."}
    /// ```
    ///
    /// | key | template | must contain |
    /// |---|---|---|
    /// | `system` | every agent's system message | — |
    /// | `planner` | the planner, round 1 | `{question}` |
    /// | `planner_later_rounds` | the planner, rounds ≥ 2 | `{question}`, `{slot}` (the solver's feedback) |
    /// | `refiner` | the refiner (critic) | `{question}`, `{slot}` (the plan) |
    /// | `solver` | the solver | `{question}`, `{slot}` (the refined plan), `{instruction}` |
    /// | `solver_instruction` | the solver's answer format | — |
    /// | `solver_choice_instruction` | the same, for A–D questions | — |
    /// | `single` | the single-agent baseline | `{question}`, `{instruction}` |
    ///
    /// `{round}` gives the round number anywhere. A slot is where the previous agent's latent
    /// thoughts (or, for the text baseline, its text) go, so a template without one would drop
    /// them silently; unknown keys are errors for the same reason.
    public struct Prompts: Codable, Sendable, Equatable {
        public var values: [String: String]

        /// The keys, each with the placeholders its template must contain.
        static let required: [(key: String, placeholders: [String])] = [
            ("system", []), ("planner", ["question"]), ("planner_later_rounds", ["question", "slot"]),
            ("refiner", ["question", "slot"]), ("solver", ["question", "slot", "instruction"]),
            ("solver_instruction", []), ("solver_choice_instruction", []), ("single", ["question", "instruction"]),
        ]

        public init(_ values: [String: String]) { self.values = values }

        public init(from decoder: any Decoder) throws {
            values = try decoder.singleValueContainer().decode([String: String].self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(values)
        }

        /// Unknown keys and templates missing a placeholder they need, one sentence each.
        public func problems() -> [String] {
            let known = Dictionary(uniqueKeysWithValues: Self.required.map { ($0.key, $0.placeholders) })
            var out = values.keys.filter { known[$0] == nil }.sorted().map {
                "unknown prompt \"\($0)\" (known: \(Self.required.map(\.key).joined(separator: ", ")))"
            }
            for (key, placeholders) in Self.required {
                guard let text = values[key] else { continue }
                for name in placeholders where !text.contains("{\(name)}") {
                    out.append("prompt \"\(key)\" lacks {\(name)}")
                }
            }
            return out
        }

        /// `base` with these templates in place of its own.
        public func templates(over base: PromptTemplates = .sequentialMath) -> PromptTemplates {
            var t = base
            if let v = values["system"] { t.system = v }
            if let v = values["planner"] { t.plannerFirstRound = v }
            if let v = values["planner_later_rounds"] { t.plannerLaterRound = v }
            if let v = values["refiner"] { t.refiner = v }
            if let v = values["solver"] { t.solver = v }
            if let v = values["solver_instruction"] { t.solverInstruction = v }
            if let v = values["solver_choice_instruction"] { t.solverChoiceInstruction = v }
            if let v = values["single"] { t.singleAgent = v }
            return t
        }
    }

    /// The templates this system's agents use: the built-in wording with `prompts` applied.
    public var templates: PromptTemplates { prompts?.templates() ?? .sequentialMath }
}
