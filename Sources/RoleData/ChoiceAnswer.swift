// Multiple-choice grading: which option letter a reply chose. Small models answer "B", "B.",
// "(B) Paris", "The answer is B", "Answer: (C)" or "\boxed{D}"; each counts. (Graded with the
// math rules, a reply "B" was "retried" with "Final Answer: \boxed{" and became "10".)
import Foundation

public enum ChoiceAnswer {
    /// Option letters recognised (MMLU and GPQA use A–D, MedQA A–E, MMLU-Pro up to J).
    static let letters = Set("ABCDEFGHIJ")

    /// The chosen letter (uppercase), nil when the reply names none. In order: the last `\boxed{}`
    /// that holds a letter; the letter after the last "answer is" / "answer:" phrase; a reply
    /// that starts with the letter standing alone ("B", "B.", "B)", "(B) …", "**B**" — but not the
    /// article in "A patient with …").
    public static func extract(from text: String) -> String? {
        if let boxed = AnswerExtractor.lastBoxed(in: text), let letter = leadingLetter(stripLatex(boxed), after: true) { return letter }
        if let letter = lastStatedAnswer(text) { return letter }
        return leadingLetter(Substring(text), after: false)
    }

    /// `\text{B}` → `B`.
    private static func stripLatex(_ s: String) -> Substring {
        var t = s.trimmingCharacters(in: .whitespaces)
        for command in ["\\text{", "\\textbf{", "\\mathrm{"] where t.hasPrefix(command) && t.hasSuffix("}") {
            t = String(t.dropFirst(command.count).dropLast())
        }
        return Substring(t)
    }

    /// The option letter `text` starts with (after spaces, `*`, `(` or `[`). It must stand alone:
    /// followed by the end, a newline or one of `.`, `)`, `]`, `:`, `,`, `*`; with `after` (the
    /// text follows "answer is" or sits in a box) also by a space. A lowercase letter counts only
    /// as the whole text.
    static func leadingLetter(_ text: Substring, after: Bool) -> String? {
        let opened = text.drop { $0.isWhitespace }
        let rest = opened.drop { $0 == "*" || $0 == "(" || $0 == "[" }
        // (Some letters uppercase to two: "ß" → "SS"; only a single option letter counts.)
        guard let first = rest.first, case let upper = first.uppercased(), upper.count == 1, letters.contains(Character(upper)) else {
            return nil
        }
        let tail = rest.dropFirst()
        if first.isLowercase { return tail.allSatisfy { $0.isWhitespace || ".)]*".contains($0) } ? first.uppercased() : nil }
        guard let next = tail.first else { return String(first) }
        if next.isNewline || ".)]:,*".contains(next) { return String(first) }
        if next == " ", after || rest.startIndex != opened.startIndex { return String(first) }
        return nil
    }

    /// The letter after the last "answer is", "answer:", "option is" or "choice is".
    static func lastStatedAnswer(_ text: String) -> String? {
        var best: (position: String.Index, letter: String)?
        for phrase in ["answer is", "answer:", "option is", "choice is", "answer would be"] {
            var from = text.startIndex
            while let range = text.range(of: phrase, options: .caseInsensitive, range: from..<text.endIndex) {
                let after = text[range.upperBound...].drop { $0.isWhitespace || $0 == ":" }
                if let letter = leadingLetter(after, after: true), best.map({ range.lowerBound > $0.position }) ?? true {
                    best = (range.lowerBound, letter)
                }
                from = range.upperBound
            }
        }
        return best?.letter
    }
}
