import Testing

@testable import RoleData

@Suite("Answer extraction and comparison")
struct AnswerTests {
    @Test(
        "the last complete, outermost \\boxed{…} wins, with nested and escaped braces",
        arguments: [
            ("so \\boxed{42}.", "42"),
            ("\\boxed{1} then \\boxed{ 2 }", "2"),
            ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
            ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
            ("\\boxed{a \\boxed{b}} end", "a \\boxed{b}"),
            ("\\boxed{7} and a broken \\boxed{8", "7"),
            ("\\boxed{x^{2}} \\boxed{}", ""),
            ("$\\boxed{-3.5}$", "-3.5"),
        ])
    func boxed(text: String, expected: String) {
        #expect(AnswerExtractor.lastBoxed(in: text) == expected)
        #expect(AnswerExtractor.extract(from: text) == expected)
    }

    @Test("without a box: the last non-empty Final Answer line; otherwise nil")
    func fallbacks() {
        #expect(AnswerExtractor.extract(from: "work\nFinal Answer: 12\nFINAL ANSWER: $13$\nthanks") == "13")
        #expect(AnswerExtractor.extract(from: "Final answer: 5\nFinal answer:   ") == "5")
        #expect(AnswerExtractor.extract(from: "The result is 12.") == nil)
        #expect(AnswerExtractor.extract(from: "unterminated \\boxed{12") == nil)
        #expect(AnswerExtractor.extract(from: "\\boxed{3}\nFinal Answer: 4") == "3")
    }

    @Test(
        "equal after normalising whitespace, grouping commas, signs and zeros",
        arguments: [
            ("1,200", "1200"), ("16.0", "16"), ("16.", "16"), ("2.50", "2.5"), (" 1 200 ", "1200"),
            ("+7", "7"), ("-0", "0"), ("070", "70"), (".5", "0.5"), ("-1,234.500", "-1234.5"), ("A", "A"),
        ])
    func equal(predicted: String, expected: String) {
        #expect(AnswerComparator.matches(predicted, expected: expected))
    }

    @Test(
        "different: no lenient integer-part rule, no unit stripping, no float rounding",
        arguments: [
            ("4.5", "\\frac{14}{3}"), ("4", "4.5"), ("1/2", "0.5"), ("$18", "18"), ("18 dollars", "18"),
            ("1,2", "12"), ("12,00", "1200"), ("0.1", "0.1000000001"), ("-5", "5"), ("a", "A"),
        ])
    func different(predicted: String, expected: String) {
        #expect(!AnswerComparator.matches(predicted, expected: expected))
    }

    @Test("no prediction never matches")
    func missing() {
        #expect(!AnswerComparator.matches(nil, expected: "3"))
        #expect(AnswerComparator.canonical("1,000,000.00") == "1000000")
    }
}
