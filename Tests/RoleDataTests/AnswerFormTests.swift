import Foundation
import Testing

@testable import RoleData

@Suite("Answer forms: letters, LaTeX, retries")
struct AnswerFormTests {
    @Test("a chosen letter is found however a small model writes it")
    func letters() {
        let cases: [(String, String?)] = [
            ("B", "B"), ("B.", "B"), ("(B) Paris", "B"), ("The answer is B", "B"), ("The answer is (C).", "C"),
            ("Answer: D", "D"), ("**C**", "C"), ("b", "B"), ("[A] because …", "A"), ("\\boxed{D}", "D"),
            ("Final Answer: \\boxed{\\text{B}}", "B"), ("B) 42", "B"), ("C\nThe others are wrong.", "C"),
            ("I think the answer is A, since the answer is not B.", "A"),  // the last "answer is" that names a letter
            ("The correct option is (E)", "E"),
            // No letter chosen.
            ("A patient with chest pain should be examined.", nil), ("Because of the heart.", nil), ("", nil),
            ("About 10", nil), ("\\boxed{10}", nil), ("ß", nil), ("ßB", nil), ("The answer is ß", nil),
        ]
        for (reply, expected) in cases {
            #expect(ChoiceAnswer.extract(from: reply) == expected, "\(reply.debugDescription)")
        }
        #expect(AnswerForm.letter.matches("(b)", expected: "B"))
        #expect(!AnswerForm.letter.matches("C", expected: "B"))
        #expect(!AnswerForm.letter.matches(nil, expected: "B"))
    }

    @Test("MATH-style answers compare after LaTeX normalisation, never numerically")
    func latex() {
        let same: [(String, String)] = [
            ("\\frac{1}{2}", "\\dfrac12"), ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"), ("90^\\circ", "90"),
            ("\\text{(C)}", "(C)"), ("10\\%", "10"), ("1,000", "1000"), ("$5$", "5"), ("2.50", "2.5"), ("\\sqrt2", "\\sqrt{2}"),
            ("x \\in [2, 5)", "x\\in[2,5)"), ("\\tfrac{3}{4}.", "\\frac{3}{4}"), ("\\$18.90", "18.9"),
        ]
        for (a, b) in same { #expect(AnswerForm.latex.matches(a, expected: b), "\(a) vs \(b)") }
        let different: [(String, String)] = [("\\frac{1}{2}", "0.5"), ("\\frac{1}{2}", "\\frac{2}{1}"), ("12", "13"), ("\\sqrt{2}", "\\sqrt{3}")]
        for (a, b) in different { #expect(!AnswerForm.latex.matches(a, expected: b), "\(a) vs \(b)") }
        // The math form stays strict, as every recorded GSM comparison graded.
        #expect(!AnswerForm.math.matches("$18", expected: "18") && AnswerForm.math.matches("16.0", expected: "16"))
    }

    @Test("each form's retry asks for its own kind of answer")
    func retries() {
        #expect(AnswerForm.math.retry?.prefix == "\nFinal Answer: \\boxed{" && AnswerForm.math.retry?.tokens == 16)
        #expect(AnswerForm.letter.retry?.prefix == "\nThe answer is (" && AnswerForm.letter.retry?.tokens == 2)
        #expect(AnswerForm.code.retry == nil)
        // A continued letter retry is graded as that letter.
        #expect(AnswerForm.letter.extract(from: "I am not sure.\nThe answer is (B") == "B")
        #expect(AnswerForm.detect(expected: ["A", "c", "D"]) == .letter && AnswerForm.detect(expected: ["A", "12"]) == .math)
        #expect(AnswerForm.detect(expected: []) == .math && AnswerForm.detect(expected: ["ß"]) == .math)
    }
}
