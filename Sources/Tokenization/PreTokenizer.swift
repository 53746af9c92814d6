// Provenance: must match llama.cpp src/llama-vocab.cpp (`llm_tokenizer_bpe` regex lists per
// pre-tokenizer type, and the `tokenizer.ggml.pre` name table in llama_vocab::impl::load) and
// src/unicode.cpp `unicode_regex_split` (each expression refines the previous split).

/// The pre-tokenizer of a byte-level BPE vocabulary (GGUF `tokenizer.ggml.pre`).
public enum PreTokenizerKind: String, Sendable, CaseIterable {
    /// GPT-2's expression: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2 = "gpt-2"
    /// llama.cpp's fallback for BPE vocabularies without a recognised pre-tokenizer.
    case defaultBPE = "default"
    /// Each digit alone, then GPT-2's expression (SmolLM, StarCoder).
    case smollm
    /// Qwen2's expression: case-insensitive contractions, `[^\r\n\p{L}\p{N}]?\p{L}+`, single
    /// digits, punctuation runs that keep trailing newlines, newline-ending whitespace runs.
    case qwen2

    /// The kind for a GGUF `tokenizer.ggml.pre` value; nil or empty means `.defaultBPE`, as in
    /// llama.cpp.
    public init(ggufName: String?) throws(TokenizerError) {
        guard let name = ggufName, !name.isEmpty else {
            self = .defaultBPE
            return
        }
        switch name {
        case "gpt-2": self = .gpt2
        case "default": self = .defaultBPE
        case "smollm": self = .smollm
        case "qwen2", "deepseek-r1-qwen": self = .qwen2
        default: throw .unknownPreTokenizer(name)
        }
    }

    /// Whether decoding applies llama.cpp's `clean_spaces` pass (removing the space before
    /// `.,!?` and in some contractions): on for `default` and `gpt-2`, off for the others.
    var cleansSpaces: Bool {
        switch self {
        case .gpt2, .defaultBPE: true
        case .smollm, .qwen2: false
        }
    }

    var stages: [SplitStage] {
        switch self {
        case .gpt2: [.gpt2]
        case .smollm: [.eachNumber, .gpt2]
        case .qwen2: [.qwen2]
        case .defaultBPE: [.punctuationRuns, .gpt2, .numberRuns, .asciiDigitTriples]
        }
    }
}

/// One regular expression of a pre-tokenizer. Each stage splits every piece produced by the
/// previous stage on its own, never across piece boundaries.
enum SplitStage: Sendable {
    /// `'s|'t|…| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)` (GPT-2).
    case gpt2
    /// Qwen2's expression (see ``PreTokenizerKind/qwen2``).
    case qwen2
    /// `\p{N}`: every number code point becomes its own piece.
    case eachNumber
    /// `\p{N}+`.
    case numberRuns
    /// `[\p{P}\$\+<=>\^~\|]+`.
    case punctuationRuns
    /// `[0-9][0-9][0-9]`.
    case asciiDigitTriples
}

/// A text fragment prepared for splitting: its code points and their classes.
struct SplitInput {
    var scalars: [UInt32] = []
    var flags: [CodepointFlags] = []

    mutating func load(_ scalars: [UInt32]) {
        self.scalars = scalars
        flags.removeAll(keepingCapacity: true)
        flags.reserveCapacity(scalars.count)
        for scalar in scalars { flags.append(CodepointFlags.of(scalar)) }
    }
}

extension PreTokenizerKind {
    /// Splits `input` into pieces, returned as consecutive lengths in code points.
    func split(_ input: SplitInput) -> [Int] {
        var pieces = input.scalars.isEmpty ? [] : [input.scalars.count]
        var next: [Int] = []
        for stage in stages {
            next.removeAll(keepingCapacity: true)
            next.reserveCapacity(pieces.count * 2)
            var start = 0
            for length in pieces {
                stage.split(input, start ..< start + length, into: &next)
                start += length
            }
            swap(&pieces, &next)
        }
        return pieces
    }
}

extension SplitStage {
    func split(_ input: SplitInput, _ range: Range<Int>, into pieces: inout [Int]) {
        switch self {
        case .gpt2: Self.splitGPT2(input, range, into: &pieces)
        case .qwen2: Self.splitQwen2(input, range, into: &pieces)
        case .eachNumber, .numberRuns, .punctuationRuns, .asciiDigitTriples:
            splitByMatches(input, range, into: &pieces)
        }
    }

    /// For single-class expressions: every leftmost match is a piece, and so is each gap
    /// between matches (as `std::regex_iterator` drives them in llama.cpp).
    private func splitByMatches(_ input: SplitInput, _ range: Range<Int>, into pieces: inout [Int]) {
        var gapStart = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            let length = matchLength(input, at: i, end: range.upperBound)
            if length == 0 {
                i += 1
                continue
            }
            if i > gapStart { pieces.append(i - gapStart) }
            pieces.append(length)
            i += length
            gapStart = i
        }
        if range.upperBound > gapStart { pieces.append(range.upperBound - gapStart) }
    }

    private func matchLength(_ input: SplitInput, at start: Int, end: Int) -> Int {
        switch self {
        case .eachNumber:
            return input.flags[start].isNumber ? 1 : 0
        case .numberRuns:
            var i = start
            while i < end, input.flags[i].isNumber { i += 1 }
            return i - start
        case .punctuationRuns:
            var i = start
            while i < end, Self.isPunctuationRunMember(input.scalars[i], input.flags[i]) { i += 1 }
            return i - start
        case .asciiDigitTriples:
            guard start + 3 <= end else { return 0 }
            for i in start ..< start + 3 where !(0x30...0x39).contains(input.scalars[i]) { return 0 }
            return 3
        case .gpt2, .qwen2:
            return 0
        }
    }

    /// `[\p{P}\$\+<=>\^~\|]`. llama.cpp evaluates \p{P} on ASCII by an explicit character list
    /// (``!"#%&'()*,-./:;?@[\]_{}``) and on other code points by category; whitespace never
    /// matches.
    private static func isPunctuationRunMember(_ scalar: UInt32, _ flags: CodepointFlags) -> Bool {
        if scalar < 0x80 {
            switch UInt8(scalar) {
            case UInt8(ascii: "!")...UInt8(ascii: "#"), UInt8(ascii: "%")...UInt8(ascii: "*"),
                UInt8(ascii: ",")...UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: ";"),
                UInt8(ascii: "?"), UInt8(ascii: "@"), UInt8(ascii: "[")...UInt8(ascii: "]"),
                UInt8(ascii: "_"), UInt8(ascii: "{"), UInt8(ascii: "}"),
                UInt8(ascii: "$"), UInt8(ascii: "+"), UInt8(ascii: "<"), UInt8(ascii: "="),
                UInt8(ascii: ">"), UInt8(ascii: "^"), UInt8(ascii: "~"), UInt8(ascii: "|"):
                return true
            default:
                return false
            }
        }
        return flags.contains(.punctuation) && !flags.isWhitespace
    }
}
