// Provenance: must match llama.cpp src/llama-vocab.cpp `llm_tokenizer_bpe_session::tokenize`
// (byte-level symbols, repeatedly merging the adjacent pair of lowest merge rank, leftmost on
// ties, then per-byte fallback for pieces that are not tokens) and the `bpe_ranks` table built
// from `tokenizer.ggml.merges` in llama_vocab::impl::load (first occurrence of a pair wins).

/// Merge rules of a byte-level BPE vocabulary, keyed by symbol ids rather than strings.
///
/// Symbols are token ids, plus extra ids (≥ vocabulary size) for merge results that are not
/// tokens themselves. Both sides of every rule must be tokens, so such a symbol never merges
/// further; at the end it falls back to one-byte tokens as in llama.cpp.
struct BytePairModel: Sendable {
    typealias Merge = PairTable.Merge

    /// The symbol for each byte's GPT-2 character, or -1 when that character is not a token.
    let byteSymbols: [Int32]
    let merges: PairTable
    let vocabularySize: Int
    /// UTF-8 text of the extra (non-token) symbols, indexed by `id - vocabularySize`.
    let extraSymbolText: [[UInt8]]

    init(merges rules: [String], vocabulary: Vocabulary) throws(TokenizerError) {
        vocabularySize = vocabulary.count
        var extraIDs: [[UInt8]: Int32] = [:]
        var extraText: [[UInt8]] = []
        var entries: [(left: Int32, right: Int32, merge: Merge)] = []
        entries.reserveCapacity(rules.count)
        var joined: [UInt8] = []
        for (index, rule) in rules.enumerated() {
            var rule = rule
            let parsed = rule.withUTF8 { utf8 -> ParsedRule in
                // Split at the first space after the first character (a piece may not be empty).
                guard utf8.count >= 3, let gap = utf8.dropFirst().firstIndex(of: 0x20), gap + 1 < utf8.count else {
                    return .malformed
                }
                let leftBytes = UnsafeBufferPointer(rebasing: utf8[..<gap])
                let rightBytes = UnsafeBufferPointer(rebasing: utf8[(gap + 1)...])
                guard let left = vocabulary.id(ofBytes: leftBytes) else {
                    return .unknownPiece(String(decoding: leftBytes, as: UTF8.self))
                }
                guard let right = vocabulary.id(ofBytes: rightBytes) else {
                    return .unknownPiece(String(decoding: rightBytes, as: UTF8.self))
                }
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: leftBytes)
                joined.append(contentsOf: rightBytes)
                return .pair(left, right)
            }
            let left: Int32
            let right: Int32
            switch parsed {
            case .pair(let l, let r): (left, right) = (l, r)
            case .malformed: throw .malformedMerge(index: index, rule: rule)
            case .unknownPiece(let piece): throw .mergeReferencesUnknownToken(index: index, rule: rule, piece: piece)
            }
            let result: Int32
            if let id = vocabulary.table.id(of: joined) {
                result = id
            } else if let id = extraIDs[joined] {
                result = id
            } else {
                result = Int32(vocabulary.count + extraText.count)
                extraIDs[joined] = result
                extraText.append(joined)
            }
            entries.append((left, right, Merge(rank: Int32(truncatingIfNeeded: index), result: result)))
        }
        merges = PairTable(entries)  // keeps the first rule for a repeated pair
        extraSymbolText = extraText
        byteSymbols = ByteLevelMapping.utf8ForByte.map { bytes in
            bytes.withUnsafeBufferPointer { vocabulary.id(ofBytes: $0) } ?? -1
        }
    }

    private enum ParsedRule {
        case pair(Int32, Int32)
        case malformed
        case unknownPiece(String)
    }

    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> Merge? {
        guard left >= 0, right >= 0 else { return nil }
        return merges.merge(left, right)
    }
}

/// Reusable buffers for merging one word at a time.
struct BytePairScratch {
    var symbols: [Int32] = []
    var previous: [Int32] = []
    var next: [Int32] = []
    var queue = MinHeap<PairCandidate>()
}

/// An adjacent pair that some merge rule joins. Ordered by rank, then by left position.
struct PairCandidate: Comparable {
    let order: UInt64  // rank << 32 | left position
    let right: Int32
    let leftSymbol: Int32
    let rightSymbol: Int32
    let result: Int32

    var left: Int { Int(order & 0xFFFF_FFFF) }

    static func < (a: PairCandidate, b: PairCandidate) -> Bool { a.order < b.order }
    static func == (a: PairCandidate, b: PairCandidate) -> Bool { a.order == b.order }
}

extension BytePairModel {
    /// Appends the tokens of one pre-tokenized word (raw UTF-8 bytes) to `output`.
    func encodeWord(
        _ word: UnsafeBufferPointer<UInt8>, vocabulary: Vocabulary,
        scratch: inout BytePairScratch, output: inout [Int32]
    ) {
        let n = word.count
        guard n > 0 else { return }
        if n == 1 {
            emit(byteSymbols[Int(word[0])], byte: word[0], vocabulary: vocabulary, output: &output)
            return
        }
        scratch.symbols.removeAll(keepingCapacity: true)
        scratch.previous.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        for i in 0..<n {
            scratch.symbols.append(byteSymbols[Int(word[i])])
            scratch.previous.append(Int32(i - 1))
            scratch.next.append(i + 1 < n ? Int32(i + 1) : -1)
        }
        scratch.queue.removeAll()
        for i in 1..<n { consider(i - 1, i, &scratch) }

        while let pair = scratch.queue.popMin() {
            let left = pair.left
            let right = Int(pair.right)
            // Skip pairs made stale by an earlier merge of either side.
            guard scratch.symbols[left] == pair.leftSymbol, scratch.symbols[right] == pair.rightSymbol,
                scratch.next[left] == pair.right
            else { continue }
            scratch.symbols[left] = pair.result
            scratch.symbols[right] = -2  // merged away
            let after = scratch.next[right]
            scratch.next[left] = after
            if after >= 0 { scratch.previous[Int(after)] = Int32(left) }
            let before = scratch.previous[left]
            if before >= 0 { consider(Int(before), left, &scratch) }
            if after >= 0 { consider(left, Int(after), &scratch) }
        }

        var i = 0
        while i >= 0 {
            let symbol = scratch.symbols[i]
            if symbol >= 0 && Int(symbol) < vocabularySize {
                output.append(symbol)
            } else if symbol >= 0 {
                fallback(extraSymbolText[Int(symbol) - vocabularySize], vocabulary: vocabulary, output: &output)
            } else {
                fallback(ByteLevelMapping.utf8ForByte[Int(word[i])], vocabulary: vocabulary, output: &output)
            }
            i = Int(scratch.next[i])
        }
    }

    @inline(__always)
    private func consider(_ left: Int, _ right: Int, _ scratch: inout BytePairScratch) {
        let a = scratch.symbols[left]
        let b = scratch.symbols[right]
        guard let merge = merge(a, b) else { return }
        scratch.queue.insert(
            PairCandidate(
                order: UInt64(UInt32(merge.rank)) << 32 | UInt64(left), right: Int32(right),
                leftSymbol: a, rightSymbol: b, result: merge.result))
    }

    private func emit(_ symbol: Int32, byte: UInt8, vocabulary: Vocabulary, output: inout [Int32]) {
        if symbol >= 0 {
            output.append(symbol)
        } else {
            fallback(ByteLevelMapping.utf8ForByte[Int(byte)], vocabulary: vocabulary, output: &output)
        }
    }

    /// A final piece that is not a token: llama.cpp looks up each of its UTF-8 bytes as a
    /// one-byte token text and keeps those found (in practice only ASCII can match).
    private func fallback(_ text: [UInt8], vocabulary: Vocabulary, output: inout [Int32]) {
        for byte in text {
            let found = withUnsafePointer(to: byte) { vocabulary.id(ofBytes: UnsafeBufferPointer(start: $0, count: 1)) }
            if let found { output.append(found) }
        }
    }
}
