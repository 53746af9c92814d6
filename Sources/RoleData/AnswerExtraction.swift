import Foundation

/// Pulls the final answer out of a solver's text.
///
/// Order: the last `\boxed{…}`, else the last "Final Answer:" line, else nothing. Unlike the
/// reference (spec §6.2), which falls back to the whole output, a text without either marker
/// yields nil: an unmarked answer counts as no answer.
public enum AnswerExtractor {
    /// The final answer of `text`, or nil if it has neither a `\boxed{…}` nor a "Final Answer:" line.
    public static func extract(from text: String) -> String? {
        lastBoxed(in: text) ?? finalAnswerLine(in: text)
    }

    /// The content of the last complete `\boxed{…}` in `text`, trimmed of surrounding whitespace.
    ///
    /// Braces are matched properly, so `\boxed{\frac{1}{2}}` gives `\frac{1}{2}`; escaped braces
    /// `\{` and `\}` are literal characters and do not open or close a group. "Last" means the last
    /// outermost box: a `\boxed` nested inside another belongs to the outer one. A `\boxed{` whose
    /// group never closes is skipped (an earlier complete box is returned instead).
    public static func lastBoxed(in text: String) -> String? {
        let chars = Array(text)
        let command = Array("\\boxed{")
        var found: String?
        var i = 0
        while i + command.count <= chars.count {
            guard chars[i..<(i + command.count)].elementsEqual(command) else {
                i += 1
                continue
            }
            let contentStart = i + command.count
            if let close = matchingClose(chars, from: contentStart) {
                found = String(chars[contentStart..<close]).trimmingCharacters(in: .whitespacesAndNewlines)
                i = close + 1
            } else {
                i = contentStart
            }
        }
        return found
    }

    /// The text after "Final Answer:" (any letter case) on the last line that has it, trimmed,
    /// with one pair of surrounding `$` removed; nil if no line has a non-empty one.
    public static func finalAnswerLine(in text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline).reversed() {
            guard let range = line.range(of: "final answer:", options: .caseInsensitive) else { continue }
            var answer = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
            if answer.count >= 2, answer.hasPrefix("$"), answer.hasSuffix("$") {
                answer = answer.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
            }
            if !answer.isEmpty { return answer }
        }
        return nil
    }

    /// Index of the `}` closing the group whose content starts at `start`, or nil.
    private static func matchingClose(_ chars: [Character], from start: Int) -> Int? {
        var depth = 1
        var i = start
        while i < chars.count {
            switch chars[i] {
            case "\\":
                i += 1  // skip the escaped character (\{, \}, \\)
            case "{":
                depth += 1
            case "}":
                depth -= 1
                if depth == 0 { return i }
            default:
                break
            }
            i += 1
        }
        return nil
    }
}
