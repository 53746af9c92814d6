// How a task's answers are found in a reply, compared with the expected one, and asked for again
// when a reply has none (spec §3.3's retry, per answer form).

/// The form of a task's answers: one closed set, so every grader, vote and retry agrees.
public enum AnswerForm: String, Codable, Sendable, CaseIterable {
    /// A number or short expression in `\boxed{}` (or a "Final Answer:" line), compared strictly
    /// (``AnswerComparator``): GSM-style data.
    case math
    /// The same extraction, compared after LaTeX normalisation (``LatexAnswer``): MATH-style data.
    case latex
    /// A multiple-choice letter (``ChoiceAnswer``): MMLU-, GPQA- and MedQA-style data.
    case letter
    /// A program (``CodeAnswer``), graded by running the task's tests on it, never by comparing
    /// text: HumanEval-style data.
    case code

    /// The answer `text` gives, nil when it gives none.
    public func extract(from text: String) -> String? {
        switch self {
        case .math, .latex: AnswerExtractor.extract(from: text)
        case .letter: ChoiceAnswer.extract(from: text)
        case .code: CodeAnswer.extract(from: text)
        }
    }

    /// The form answers are compared in (and majority votes count).
    public func canonical(_ answer: String) -> String {
        switch self {
        case .math: AnswerComparator.canonical(answer)
        case .latex: LatexAnswer.canonical(answer)
        case .letter: ChoiceAnswer.extract(from: answer) ?? answer.uppercased()
        case .code: answer.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Whether `predicted` (nil: none found) is `expected`. Code is never right by its text (it is
    /// graded by running the tests: `CodeEvaluation`), so for ``code`` this is false.
    public func matches(_ predicted: String?, expected: String) -> Bool {
        guard let predicted, self != .code else { return false }
        return canonical(predicted) == canonical(expected)
    }

    /// The retry of a reply without an answer: the text appended before the model continues it,
    /// and how many tokens it may add; nil for code (a program cut off is not finished by a few
    /// more tokens).
    public var retry: (prefix: String, tokens: Int)? {
        switch self {
        case .math, .latex: ("\nFinal Answer: \\boxed{", 16)
        case .letter: ("\nThe answer is (", 2)
        case .code: nil
        }
    }

    /// `letter` when every expected answer is one letter A–J, else `math`.
    public static func detect(expected answers: [String]) -> AnswerForm {
        let letters = Set("ABCDEFGHIJ")
        let allLetters = !answers.isEmpty && answers.allSatisfy { answer in
            let t = answer.trimmingCharacters(in: .whitespaces).uppercased()  // ("ß" uppercases to two letters)
            return t.count == 1 && letters.contains(Character(t))
        }
        return allLetters ? .letter : .math
    }
}
