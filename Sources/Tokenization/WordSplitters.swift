// Provenance: must match llama.cpp src/unicode.cpp `unicode_regex_split_custom_gpt2` and
// `unicode_regex_split_custom_qwen2` — hand-written matchers for the GPT-2 and Qwen2
// pre-tokenizer expressions, including their handling of fragment ends.

private let apostrophe: UInt32 = 0x27
private let space: UInt32 = 0x20
private let carriageReturn: UInt32 = 0x0D
private let lineFeed: UInt32 = 0x0A
/// Stands for "past the end of the piece being split".
private let outside: UInt32 = .max

/// A cursor over one piece of a ``SplitInput`` that answers "outside" past the piece's end,
/// and collects the lengths of the words it cuts.
private struct Cutter {
    let scalars: [UInt32]
    let flags: [CodepointFlags]
    let end: Int
    var wordStart: Int

    init(_ input: SplitInput, _ range: Range<Int>) {
        scalars = input.scalars
        flags = input.flags
        end = range.upperBound
        wordStart = range.lowerBound
    }

    @inline(__always) func scalar(_ i: Int) -> UInt32 { i < end ? scalars[i] : outside }
    @inline(__always) func flags(_ i: Int) -> CodepointFlags { i < end ? flags[i] : .outside }

    @inline(__always)
    mutating func cut(at position: Int, into words: inout [Int]) {
        if position > wordStart { words.append(position - wordStart) }
        wordStart = position
    }

    /// Length of `'s|'t|'re|'ve|'m|'ll|'d` at `i` (0 if none); ASCII case-insensitive when
    /// `ignoringCase` (the only code points whose lowercase is one of these letters are ASCII).
    @inline(__always)
    func contractionLength(at i: Int, ignoringCase: Bool) -> Int {
        guard scalars[i] == apostrophe, i + 1 < end else { return 0 }
        func letter(_ value: UInt32) -> UInt32 {
            ignoringCase && (0x41...0x5A).contains(value) ? value + 0x20 : value
        }
        let first = letter(scalars[i + 1])
        switch first {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        default: break
        }
        guard i + 2 < end else { return 0 }
        let second = letter(scalars[i + 2])
        switch (first, second) {
        case (0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C): return 3  // re ve ll
        default: return 0
        }
    }

    /// Counts the whitespace run at `i`; also returns the end of its last `\r` or `\n`.
    @inline(__always)
    func whitespaceRun(at i: Int) -> (count: Int, lastNewlineEnd: Int?) {
        var count = 0
        var lastNewlineEnd: Int?
        while flags(i + count).isWhitespace {
            let value = scalars[i + count]
            if value == carriageReturn || value == lineFeed { lastNewlineEnd = i + count + 1 }
            count += 1
        }
        return (count, lastNewlineEnd)
    }
}

private let notPunctuation: CodepointFlags = [.whitespace, .letter, .number]

extension SplitStage {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    static func splitGPT2(_ input: SplitInput, _ range: Range<Int>, into words: inout [Int]) {
        var c = Cutter(input, range)
        var pos = range.lowerBound
        while pos < c.end {
            let value = c.scalars[pos]
            let contraction = c.contractionLength(at: pos, ignoringCase: false)
            if contraction > 0 {
                pos += contraction
                c.cut(at: pos, into: &words)
                continue
            }
            // An optional leading space, judged by the class of what follows it.
            let leadingSpace = value == space ? 1 : 0
            let head = leadingSpace == 1 ? c.flags(pos + 1) : c.flags[pos]
            if head.isLetter || head.isNumber {
                let wanted: CodepointFlags = head.isLetter ? .letter : .number
                pos += leadingSpace
                while c.flags(pos).contains(wanted) { pos += 1 }
                c.cut(at: pos, into: &words)
                continue
            }
            if head.isInside && head.isDisjoint(with: notPunctuation) {
                pos += leadingSpace
                while c.flags(pos).isInside && c.flags(pos).isDisjoint(with: notPunctuation) { pos += 1 }
                c.cut(at: pos, into: &words)
                continue
            }
            let run = c.whitespaceRun(at: pos).count
            if run > 1 && c.scalar(pos + run) != outside {
                // \s+(?!\S): leave the last whitespace to start the next word.
                pos += run - 1
            } else if run > 0 {
                pos += run
            } else {
                pos += 1
            }
            c.cut(at: pos, into: &words)
        }
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    static func splitQwen2(_ input: SplitInput, _ range: Range<Int>, into words: inout [Int]) {
        var c = Cutter(input, range)
        var pos = range.lowerBound
        while pos < c.end {
            let value = c.scalars[pos]
            let flags = c.flags[pos]
            let contraction = c.contractionLength(at: pos, ignoringCase: true)
            if contraction > 0 {
                pos += contraction
                c.cut(at: pos, into: &words)
                continue
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if value != carriageReturn && value != lineFeed && !flags.isNumber
                && (flags.isLetter || c.flags(pos + 1).isLetter)
            {
                pos += 1
                while c.flags(pos).isLetter { pos += 1 }
                c.cut(at: pos, into: &words)
                continue
            }
            // \p{N}
            if flags.isNumber {
                pos += 1
                c.cut(at: pos, into: &words)
                continue
            }
            // <space>?[^\s\p{L}\p{N}]+[\r\n]*  (a lone final space also ends up here, as in
            // llama.cpp; the result equals what \s+ would give)
            let leadingSpace = value == space ? 1 : 0
            let head = leadingSpace == 1 ? c.flags(pos + 1) : flags
            if head.isDisjoint(with: notPunctuation) && flags.isInside {
                pos += leadingSpace
                while c.flags(pos).isInside && c.flags(pos).isDisjoint(with: notPunctuation) { pos += 1 }
                while c.scalar(pos) == carriageReturn || c.scalar(pos) == lineFeed { pos += 1 }
                c.cut(at: pos, into: &words)
                continue
            }
            let (run, lastNewlineEnd) = c.whitespaceRun(at: pos)
            if let lastNewlineEnd {
                // \s*[\r\n]+
                pos = lastNewlineEnd
            } else if run > 1 && c.scalar(pos + run) != outside {
                // \s+(?!\S)
                pos += run - 1
            } else if run > 0 {
                pos += run
            } else {
                pos += 1
            }
            c.cut(at: pos, into: &words)
        }
    }
}
