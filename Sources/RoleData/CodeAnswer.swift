// The program a reply to a code task gives: HumanEval-style problems (a function signature and
// docstring to complete), answered in a fenced code block or as bare code.

import Foundation

/// Finds the code in a reply and joins it with the problem's prompt into the program to test.
public enum CodeAnswer {
    /// The code of `text`: the first fenced block (```python, ```py or ```) that defines or
    /// returns something, else the first fenced block, else the whole reply when it looks like
    /// code (a `def`, `return` or `import` line); nil when there is none.
    public static func extract(from text: String) -> String? {
        let blocks = fencedBlocks(text)
        if let block = blocks.first(where: looksLikeCode) ?? blocks.first {
            return block.isEmpty ? nil : block
        }
        let trimmed = text.trimmingCharacters(in: .newlines)
        return looksLikeCode(trimmed) ? trimmed : nil
    }

    /// The program whose run decides the answer. When `code` defines `entryPoint` itself, it
    /// replaces the prompt's unfinished definition (the signature and docstring): the program is
    /// what the prompt has before that definition (imports, helpers) followed by `code`. Otherwise
    /// `code` is the body that continues the prompt.
    public static func solution(prompt: String, entryPoint: String, code: String) -> String {
        let header = "def \(entryPoint)("
        let defines = code.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix(header) }
        guard defines else { return prompt + code }
        var lines = prompt.split(separator: "\n", omittingEmptySubsequences: false)
        if let start = lines.firstIndex(where: { $0.hasPrefix(header) }) { lines.removeSubrange(start...) }
        let before = lines.joined(separator: "\n")
        return before.isEmpty ? code : before + "\n" + code
    }

    static func looksLikeCode(_ text: String) -> Bool {
        text.split(separator: "\n").contains { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("def ") || t.hasPrefix("return") || t.hasPrefix("import ") || t.hasPrefix("from ")
        }
    }

    /// The contents of every ``` fenced block, in order (an unclosed last fence runs to the end).
    static func fencedBlocks(_ text: String) -> [String] {
        var blocks: [String] = [], current: [Substring]? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("```") {
                if let open = current {
                    blocks.append(open.joined(separator: "\n"))
                    current = nil
                } else {
                    current = []
                }
            } else if current != nil {
                current!.append(line)
            }
        }
        if let open = current, !open.isEmpty { blocks.append(open.joined(separator: "\n")) }
        return blocks.map { $0.trimmingCharacters(in: .newlines) }
    }
}
