// Provenance: the normalisations follow the common MATH-benchmark practice (as in Hendrycks et
// al.'s MATH grading: strip \left/\right, spacing commands, \text{}, units of degrees and percent,
// \dfrac/\tfrac → \frac, \frac12 → \frac{1}{2}, a trailing period); written here from that list.

/// LaTeX-aware comparison of MATH-style answers: both sides are normalised, then compared as
/// ``AnswerComparator`` compares (so "1,000" = "1000" and "2.50" = "2.5"), never numerically
/// ("\frac{1}{2}" ≠ "0.5").
public enum LatexAnswer {
    /// The normalised form of `answer`.
    public static func canonical(_ answer: String) -> String {
        var s = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        if s.count >= 2, s.hasPrefix("$"), s.hasSuffix("$") { s = String(s.dropFirst().dropLast()) }
        for command in ["\\text{", "\\textbf{", "\\mathrm{", "\\mbox{"] { s = unwrap(command, in: s) }
        for (from, to) in [("\\left", ""), ("\\right", ""), ("\\!", ""), ("\\,", ""), ("\\;", ""), ("\\:", ""), ("\\ ", ""),
                           ("~", ""), ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("^{\\circ}", ""), ("^\\circ", ""),
                           ("°", ""), ("\\%", ""), ("%", ""), ("\\$", ""), ("\\displaystyle", "")] {
            s = s.replacingOccurrences(of: from, with: to)
        }
        s = String(s.filter { !$0.isWhitespace })
        s = braceSingleDigitArguments(s)
        while s.hasSuffix(".") { s.removeLast() }
        return AnswerComparator.canonical(s)
    }

    /// `\text{abc}` → `abc` (braces matched), for every occurrence of `command`.
    static func unwrap(_ command: String, in s: String) -> String {
        var out = "", rest = Substring(s)
        while let range = rest.range(of: command) {
            out += rest[..<range.lowerBound]
            var depth = 1, i = range.upperBound
            while i < rest.endIndex, depth > 0 {
                if rest[i] == "{" { depth += 1 } else if rest[i] == "}" { depth -= 1 }
                if depth > 0 { i = rest.index(after: i) }
            }
            out += rest[range.upperBound..<i]
            rest = i < rest.endIndex ? rest[rest.index(after: i)...] : ""
        }
        return out + rest
    }

    /// `\frac12` → `\frac{1}{2}`, `\frac1{10}` → `\frac{1}{10}`, `\sqrt3` → `\sqrt{3}`.
    static func braceSingleDigitArguments(_ s: String) -> String {
        var out = "", chars = Array(s), i = 0
        func take(_ command: String, arguments: Int) -> Bool {
            let c = Array(command)
            guard i + c.count <= chars.count, Array(chars[i..<(i + c.count)]) == c else { return false }
            out += command
            i += c.count
            for _ in 0..<arguments {
                guard i < chars.count else { break }
                if chars[i] == "{" {  // a braced argument: copy through its closing brace
                    var depth = 0
                    repeat {
                        if chars[i] == "{" { depth += 1 } else if chars[i] == "}" { depth -= 1 }
                        out.append(chars[i])
                        i += 1
                    } while i < chars.count && depth > 0
                } else {
                    out += "{\(chars[i])}"
                    i += 1
                }
            }
            return true
        }
        while i < chars.count {
            if take("\\frac", arguments: 2) || take("\\sqrt", arguments: 1) { continue }
            out.append(chars[i])
            i += 1
        }
        return out
    }
}
