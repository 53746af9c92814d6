// Provenance: must match llama.cpp src/llama-vocab.cpp `tokenizer_st_partition` and the
// `cache_special_tokens` order built in llama_vocab::impl::load: special tokens (control,
// user-defined, unknown) are taken longest text first; each one is matched leftmost-first,
// without overlap, inside the text that earlier (longer) tokens left unmatched. Control and
// unknown tokens are skipped when special parsing is off; user-defined ones never are.

/// A piece of input text after special-token partitioning.
enum Fragment: Equatable {
    /// Raw text to pre-tokenize: a byte range of the input's UTF-8.
    case text(Range<Int>)
    case token(Int32)
}

/// Finds special-token texts in input, with llama.cpp's precedence.
struct SpecialTokenMatcher: Sendable {
    /// Trie over special-token texts: edges keyed by `node << 8 | byte`.
    private let edges: [UInt32: Int32]
    /// Per trie node: the special token ending there, or -1.
    private let terminal: [Int32]
    /// Bytes that begin some special token.
    private let firstBytes: [Bool]
    /// Token id → precedence (0 = matched first): text length descending, then id ascending.
    private let precedence: [Int32: Int32]
    /// Token id → skipped when special parsing is off (control and unknown tokens).
    private let onlyWhenParsingSpecial: Set<Int32>

    var isEmpty: Bool { precedence.isEmpty }

    init(vocabulary: Vocabulary, attributes: [TokenAttributes]) {
        var specials: [Int32] = []
        for id in 0..<vocabulary.count where attributes[id].isSpecial { specials.append(Int32(id)) }
        // llama.cpp sorts by length only (std::sort, unstable); ties are broken by id here.
        specials.sort { a, b in
            let la = vocabulary.tokenBytes[Int(a)].count
            let lb = vocabulary.tokenBytes[Int(b)].count
            return la != lb ? la > lb : a < b
        }
        var precedence: [Int32: Int32] = [:]
        var onlyWhenParsingSpecial: Set<Int32> = []
        var edges: [UInt32: Int32] = [:]
        var terminal: [Int32] = [-1]
        var firstBytes = [Bool](repeating: false, count: 256)
        for (rank, id) in specials.enumerated() {
            precedence[id] = Int32(rank)
            if !attributes[Int(id)].isDisjoint(with: [.control, .unknown]) { onlyWhenParsingSpecial.insert(id) }
            let bytes = vocabulary.tokenBytes[Int(id)]
            guard let first = bytes.first else { continue }
            firstBytes[Int(first)] = true
            var node: Int32 = 0
            for byte in bytes {
                let key = UInt32(node) << 8 | UInt32(byte)
                if let child = edges[key] {
                    node = child
                } else {
                    let child = Int32(terminal.count)
                    terminal.append(-1)
                    edges[key] = child
                    node = child
                }
            }
            terminal[Int(node)] = id
        }
        self.edges = edges
        self.terminal = terminal
        self.firstBytes = firstBytes
        self.precedence = precedence
        self.onlyWhenParsingSpecial = onlyWhenParsingSpecial
    }

    /// Splits `text` into raw-text and special-token fragments.
    /// Inside the byte ranges `literal`, tokens that need `parseSpecial` are never matched.
    func partition(_ text: UnsafeBufferPointer<UInt8>, parseSpecial: Bool, literal: [Range<Int>] = []) -> [Fragment] {
        guard !text.isEmpty else { return [] }
        guard !isEmpty else { return [.text(0 ..< text.count)] }

        // Every occurrence of every eligible special token.
        var occurrences: [(rank: Int32, start: Int, end: Int, id: Int32)] = []
        for start in 0..<text.count where firstBytes[Int(text[start])] {
            var node: Int32 = 0
            var i = start
            while i < text.count, let child = edges[UInt32(node) << 8 | UInt32(text[i])] {
                node = child
                i += 1
                let id = terminal[Int(node)]
                if id >= 0, parseSpecial || !onlyWhenParsingSpecial.contains(id), let rank = precedence[id],
                   literal.isEmpty || !onlyWhenParsingSpecial.contains(id) || !literal.contains(where: { $0.overlaps(start ..< i) }) {
                    occurrences.append((rank, start, i, id))
                }
            }
        }
        guard !occurrences.isEmpty else { return [.text(0 ..< text.count)] }
        occurrences.sort { $0.rank != $1.rank ? $0.rank < $1.rank : $0.start < $1.start }

        // Taking tokens in precedence order and each token's occurrences left to right, an
        // occurrence is matched iff none of its bytes is already matched: that is exactly
        // llama.cpp's repeated leftmost search inside the still-unmatched fragments.
        var claimed = [Bool](repeating: false, count: text.count)
        var matches: [(start: Int, end: Int, id: Int32)] = []
        for occurrence in occurrences {
            let range = occurrence.start ..< occurrence.end
            if claimed[range].contains(true) { continue }
            for i in range { claimed[i] = true }
            matches.append((occurrence.start, occurrence.end, occurrence.id))
        }
        matches.sort { $0.start < $1.start }

        var fragments: [Fragment] = []
        var position = 0
        for match in matches {
            if match.start > position { fragments.append(.text(position ..< match.start)) }
            fragments.append(.token(match.id))
            position = match.end
        }
        if position < text.count { fragments.append(.text(position ..< text.count)) }
        return fragments
    }
}
