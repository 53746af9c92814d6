// Provenance: must match llama.cpp src/llama-vocab.cpp `llm_tokenizer_spm_session` (bigram
// merging by token score, highest first and leftmost on ties; resegmentation; `<0xXX>` byte
// fallback via `llama_vocab::byte_to_token`) and the whitespace escaping to "▁" done in
// llama_vocab::impl::tokenize.

/// SentencePiece (BPE-by-score) encoding over a vocabulary with scores.
struct SentencePieceModel: Sendable {
    let addSpacePrefix: Bool
    /// Token for each byte in fallback: `<0xXX>`, else the one-byte token text, else -1.
    let byteTokens: [Int32]
    let unknownID: Int32?

    init(vocabulary: Vocabulary, addSpacePrefix: Bool, unknownID: Int32?) {
        self.addSpacePrefix = addSpacePrefix
        self.unknownID = unknownID
        byteTokens = (0..<256).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            let name = "<0x" + (byte < 16 ? "0" : "") + hex + ">"
            if let id = vocabulary.id(of: name) { return id }
            if byte < 0x80, let id = vocabulary.id(of: String(UnicodeScalar(UInt8(byte)))) { return id }
            return -1
        }
    }

    /// "▁" (U+2581), SentencePiece's visible space.
    static let spaceMarker: [UInt8] = [0xE2, 0x96, 0x81]

    /// Replaces every space with "▁", optionally prefixing one.
    static func escape(_ text: UnsafeBufferPointer<UInt8>, prefixSpace: Bool, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(text.count + 8)
        if prefixSpace { out.append(contentsOf: spaceMarker) }
        for byte in text {
            if byte == 0x20 { out.append(contentsOf: spaceMarker) } else { out.append(byte) }
        }
    }
}

/// Reusable buffers for one SentencePiece encode.
struct SentencePieceScratch {
    var escaped: [UInt8] = []
    var start: [Int32] = []
    var length: [Int32] = []
    var previous: [Int32] = []
    var next: [Int32] = []
    var queue = MinHeap<Bigram>()

    /// A candidate merge: higher score first, then leftmost.
    struct Bigram: Comparable {
        let score: Float
        let left: Int32
        let right: Int32
        let size: Int32

        static func < (a: Bigram, b: Bigram) -> Bool {
            a.score > b.score || (a.score == b.score && a.left < b.left)
        }
        static func == (a: Bigram, b: Bigram) -> Bool { a.score == b.score && a.left == b.left }
    }
}

extension SentencePieceModel {
    /// Encodes already-escaped text (`scratch.escaped`), appending token ids.
    func encodeEscaped(vocabulary: Vocabulary, scratch s: inout SentencePieceScratch, output: inout [Int32]) {
        let text = s.escaped
        guard !text.isEmpty else { return }
        s.start.removeAll(keepingCapacity: true)
        s.length.removeAll(keepingCapacity: true)
        s.previous.removeAll(keepingCapacity: true)
        s.next.removeAll(keepingCapacity: true)
        var offset = 0
        while offset < text.count {
            let count = min(UTF8Coding.sequenceLength(lead: text[offset]), text.count - offset)
            let index = s.start.count
            s.start.append(Int32(offset))
            s.length.append(Int32(count))
            s.previous.append(Int32(index - 1))
            offset += count
            s.next.append(offset == text.count ? -1 : Int32(index + 1))
        }
        s.queue.removeAll()

        text.withUnsafeBufferPointer { bytes in
            for i in 1..<s.start.count { addBigram(i - 1, i, bytes, vocabulary, &s) }
            while let bigram = s.queue.popMin() {
                let left = Int(bigram.left)
                let right = Int(bigram.right)
                // Skip if either side was merged since this candidate was queued.
                guard s.length[left] > 0, s.length[right] > 0, s.length[left] + s.length[right] == bigram.size
                else { continue }
                s.length[left] += s.length[right]
                s.length[right] = 0
                let after = s.next[right]
                s.next[left] = after
                if after >= 0 { s.previous[Int(after)] = Int32(left) }
                let before = s.previous[left]
                if before >= 0 { addBigram(Int(before), left, bytes, vocabulary, &s) }
                if after >= 0 { addBigram(left, Int(after), bytes, vocabulary, &s) }
            }
            var i = 0
            while i >= 0 {
                let piece = UnsafeBufferPointer(rebasing: bytes[Int(s.start[i]) ..< Int(s.start[i] + s.length[i])])
                resegment(piece, vocabulary, &output)
                i = Int(s.next[i])
            }
        }
    }

    private func addBigram(
        _ left: Int, _ right: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ vocabulary: Vocabulary,
        _ s: inout SentencePieceScratch
    ) {
        let begin = Int(s.start[left])
        let size = Int(s.length[left] + s.length[right])
        guard let id = vocabulary.id(ofBytes: UnsafeBufferPointer(rebasing: bytes[begin ..< begin + size])) else {
            return
        }
        s.queue.insert(
            .init(score: vocabulary.scores[Int(id)], left: Int32(left), right: Int32(right), size: Int32(size)))
    }

    /// A final symbol: its token if it is one, else its bytes. Merged symbols are always tokens
    /// (a pair is only queued when its text is one), so only single characters fall back.
    private func resegment(_ piece: UnsafeBufferPointer<UInt8>, _ vocabulary: Vocabulary, _ output: inout [Int32]) {
        if let id = vocabulary.id(ofBytes: piece) {
            output.append(id)
            return
        }
        for byte in piece {
            let id = byteTokens[Int(byte)]
            if id >= 0 {
                output.append(id)
            } else if let unknownID {
                // llama.cpp throws here (no byte token); SentencePiece itself emits <unk>.
                output.append(unknownID)
            }
        }
    }
}
