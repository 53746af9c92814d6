// Template filling shared by every prompt: {name} placeholders filled in one pass, latent-slot
// markers, and the reference's multiple-choice test (spec §6.2).

/// Filling templates.
public enum PromptFill {
    /// The latent-slot marker of slot `name` (the reference's spelling for its names, e.g.
    /// "feedback" → `<<LATENT_FEEDBACK_SLOT>>`). It is never embedded: the prompt is split there.
    public static func marker(slot name: String) -> String { "<<LATENT_\(name.uppercased())_SLOT>>" }

    /// The slot names a template uses, in order of appearance.
    public static func slots(in template: String) -> [String] {
        var out: [String] = []
        var rest = template[...]
        while let open = rest.range(of: "{slot:") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            out.append(String(rest[open.upperBound..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return out
    }

    /// Replaces each `{name}` whose name is a key of `values`; other braces are kept.
    public static func fill(_ template: String, with values: [String: String]) -> String {
        var out = ""
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let afterOpen = rest.index(after: open)
            if let close = rest[afterOpen...].firstIndex(of: "}"), let value = values[String(rest[afterOpen..<close])] {
                out += value
                rest = rest[rest.index(after: close)...]
            } else {
                out.append("{")
                rest = rest[afterOpen...]
            }
        }
        out += rest
        return out
    }

    /// Whether `question` is multiple choice: some line is optional spaces, a letter A–D (either
    /// case), one of `.` `)` `:` `-`, then whitespace — the reference's rule (spec §6.2).
    public static func isChoiceQuestion(_ question: String) -> Bool {
        question.split(separator: "\n", omittingEmptySubsequences: false).contains { line in
            let chars = Array(line.drop { $0 == " " || $0 == "\t" }.prefix(3))
            return chars.count == 3 && "ABCDabcd".contains(chars[0]) && ".):-".contains(chars[1]) && chars[2].isWhitespace
        }
    }
}
