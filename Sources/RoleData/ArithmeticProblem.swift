/// A word problem together with the computation that solves it, from which the role texts are
/// derived mechanically (see ``roleTexts``).
///
/// The computation is a chain of binary integer steps. Each operand is either a quantity given in
/// the question or the result of an earlier step; the last step's result is the answer.
public struct ArithmeticProblem: Sendable, Hashable {
    /// A countable unit with its singular and plural spelling ("dollar"/"dollars").
    public struct Unit: Sendable, Hashable {
        public var singular: String
        public var plural: String

        public init(_ singular: String, _ plural: String) {
            self.singular = singular
            self.plural = plural
        }

        /// `value` followed by the unit, singular for exactly 1.
        public func format(_ value: Int) -> String { "\(value) \(value == 1 ? singular : plural)" }
    }

    /// A number stated in the question.
    public struct Given: Sendable, Hashable {
        /// A noun phrase naming it, e.g. "the price of one notebook".
        public var name: String
        /// The number as the question states it.
        public var value: Int
        /// Its unit, if the texts should name one ("3 minutes").
        public var unit: Unit?

        public init(_ name: String, _ value: Int, _ unit: Unit? = nil) {
            self.name = name
            self.value = value
            self.unit = unit
        }
    }

    /// An operand of a step.
    public enum Operand: Sendable, Hashable {
        /// A number from the question.
        case given(Given)
        /// The result of the step with this 0-based index (always an earlier one).
        case step(Int)
    }

    /// A binary integer operation.
    public enum Operation: String, Sendable, Hashable, CaseIterable {
        case add = "+"
        case subtract = "-"
        case multiply = "*"
        case divide = "/"

        /// The symbol used in the refined plan and the worked answer.
        public var symbol: String { rawValue }
    }

    /// One step: `name = lhs operation rhs`.
    public struct Step: Sendable, Hashable {
        /// A noun phrase naming the result, e.g. "the cost of the notebooks".
        public var name: String
        /// What the step does to its operands.
        public var operation: Operation
        /// The left operand (the minuend or dividend for `-` and `/`).
        public var lhs: Operand
        /// The right operand.
        public var rhs: Operand
        /// The unit of the result, if it has one.
        public var unit: Unit?

        public init(_ name: String, _ lhs: Operand, _ operation: Operation, _ rhs: Operand, unit: Unit? = nil) {
            self.name = name
            self.operation = operation
            self.lhs = lhs
            self.rhs = rhs
            self.unit = unit
        }
    }

    /// The question as posed.
    public var question: String
    /// The steps in order; every `.step(i)` operand refers to an earlier step.
    public var steps: [Step]
    /// The template that wrote the problem (e.g. "shopping").
    public var template: String

    /// A problem; every `.step(i)` operand must name an earlier step (checked by precondition).
    public init(question: String, steps: [Step], template: String) {
        precondition(!steps.isEmpty, "a problem needs at least one step")
        for (k, step) in steps.enumerated() {
            for case .step(let i) in [step.lhs, step.rhs] {
                precondition(i < k, "step \(k) uses step \(i), which is not earlier")
            }
        }
        self.question = question
        self.steps = steps
        self.template = template
    }

    /// The result of every step, in order. Division is exact: templates choose numbers that divide.
    public var stepValues: [Int] {
        var values: [Int] = []
        for step in steps {
            let a = value(of: step.lhs, given: values)
            let b = value(of: step.rhs, given: values)
            switch step.operation {
            case .add: values.append(a + b)
            case .subtract: values.append(a - b)
            case .multiply: values.append(a * b)
            case .divide:
                precondition(b != 0 && a % b == 0, "template chose \(a) / \(b), which is not exact")
                values.append(a / b)
            }
        }
        return values
    }

    /// The final answer: the last step's result.
    public var result: Int { stepValues[stepValues.count - 1] }

    private func value(of operand: Operand, given values: [Int]) -> Int {
        switch operand {
        case .given(let g): g.value
        case .step(let i): values[i]
        }
    }
}

extension ArithmeticProblem {
    /// The planner, refiner and solver texts of this problem, derived by a fixed rule:
    ///
    /// * **plan** — one "Step k:" line per step, in words only, naming the operation and the
    ///   quantities: "Step 1: Multiply the number of notebooks by the price of one notebook to get
    ///   the cost of the notebooks." No numbers appear.
    /// * **refined plan** — the same steps as equations between named quantities, each given
    ///   quantity with its value from the question and each earlier result with its step:
    ///   "Step 3: The total cost = the cost of the notebooks (step 1) + the cost of the pens
    ///   (step 2)." No computed value appears.
    /// * **answer** — a worked solution, one sentence per step with the arithmetic carried out
    ///   ("The total cost is 12 + 6 = 18 dollars."), ending "The answer is \boxed{N}."
    public var roleTexts: (plan: String, refinedPlan: String, answer: String) {
        let values = stepValues
        var plan: [String] = []
        var refined: [String] = []
        var answer: [String] = []
        for (k, step) in steps.enumerated() {
            let a = name(of: step.lhs), b = name(of: step.rhs)
            let instruction: String
            switch step.operation {
            case .add: instruction = "Add \(a) and \(b)"
            case .subtract: instruction = "Subtract \(b) from \(a)"
            case .multiply: instruction = "Multiply \(a) by \(b)"
            case .divide: instruction = "Divide \(a) by \(b)"
            }
            plan.append("Step \(k + 1): \(instruction) to get \(step.name).")
            refined.append(
                "Step \(k + 1): \(step.name.capitalizedFirst) = \(labelled(step.lhs)) "
                    + "\(step.operation.symbol) \(labelled(step.rhs)).")
            let result = step.unit?.format(values[k]) ?? String(values[k])
            answer.append(
                "\(step.name.capitalizedFirst) is \(number(step.lhs, values)) \(step.operation.symbol) "
                    + "\(number(step.rhs, values)) = \(result).")
        }
        answer.append("The answer is \\boxed{\(result)}.")
        return (plan.joined(separator: "\n"), refined.joined(separator: "\n"), answer.joined(separator: "\n"))
    }

    private func name(of operand: Operand) -> String {
        switch operand {
        case .given(let g): g.name
        case .step(let i): steps[i].name
        }
    }

    private func labelled(_ operand: Operand) -> String {
        switch operand {
        case .given(let g): "\(g.name) (\(g.unit?.format(g.value) ?? String(g.value)))"
        case .step(let i): "\(steps[i].name) (step \(i + 1))"
        }
    }

    private func number(_ operand: Operand, _ values: [Int]) -> String {
        switch operand {
        case .given(let g): String(g.value)
        case .step(let i): String(values[i])
        }
    }
}

extension String {
    /// The string with its first character upper-cased.
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
