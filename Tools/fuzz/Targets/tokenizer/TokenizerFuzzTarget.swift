// libFuzzer entry point for Sources/Tokenization: encoding arbitrary text (with and without
// special-token parsing), decoding arbitrary id sequences (negative and out-of-range ids
// included), the streaming decoder, chat-template rendering and detection, and tokenizers built
// from arbitrary vocabulary data (what a GGUF file supplies). A crash or sanitizer report is a
// finding, and so is a broken invariant (fuzzCheck): decode(encode(text)) == text, streamed text
// == decoded text, and message content never adding turn markers. Written for this project.
import FuzzSupport
import Tokenization

@main
enum Entry {
    static func main() { runLibFuzzer(fuzzTokenizer) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzEntry(data, size) { bytes in
        var input = FuzzInput(bytes)
        // Low three bits: what to exercise; the others: flags for it.
        let header = input.byte()
        switch (header & 0x07) % 6 {
        case 0: encodeBytePair(&input, parseSpecial: header & 0x10 != 0, literalRanges: header & 0x20 != 0)
        case 1: encodeSentencePiece(&input, parseSpecial: header & 0x10 != 0, spaced: header & 0x20 != 0)
        case 2: decodeIDs(&input, renderSpecial: header & 0x10 != 0)
        case 3: renderChat(&input, flags: header)
        case 4: detectTemplate(&input)
        default: arbitraryVocabulary(&input, flags: header)
        }
    }
}

/// decode and the streaming decoder must agree (neither fixed vocabulary cleans spaces).
private func checkStreaming(_ tokenizer: Tokenizer, _ ids: [Int32], renderSpecial: Bool, chunk: Int) {
    var stream = StreamingDecoder(tokenizer: tokenizer, renderSpecial: renderSpecial)
    var streamed = ""
    var start = 0
    while start < ids.count {
        let end = min(ids.count, start + max(1, chunk))
        streamed += stream.append(contentsOf: ids[start..<end])
        start = end
    }
    streamed += stream.flush()
    fuzzCheck(!stream.hasPendingBytes, "flush left bytes pending")
    let decoded = tokenizer.decode(ids, renderSpecial: renderSpecial)
    fuzzCheck(streamed == decoded, "streamed \(streamed.debugDescription) != decoded \(decoded.debugDescription) for \(ids)")
}

/// Text, optionally with caller-given literal byte ranges (anything: unsorted, overlapping, out
/// of bounds), which may only change which control tokens are matched.
private func encodeBytePair(_ input: inout FuzzInput, parseSpecial: Bool, literalRanges: Bool) {
    let tokenizer = FuzzVocabularies.bytePair
    var literal: [Range<Int>] = []
    if literalRanges {
        for _ in 0..<Int(input.byte() % 4) {
            let start = Int(input.byte()) - 8, length = Int(input.byte())
            literal.append(start ..< start + length)
        }
    }
    let text = String(decoding: input.rest(), as: UTF8.self)
    let ids = tokenizer.encode(text, addBOS: true, parseSpecial: parseSpecial, literal: literal)
    fuzzCheck(ids.allSatisfy(tokenizer.vocabulary.contains), "encode produced an id outside the vocabulary")
    let decoded = tokenizer.decode(ids)
    fuzzCheck(decoded == text, "BPE round trip: \(text.debugDescription) → \(ids) → \(decoded.debugDescription)")
    checkStreaming(tokenizer, ids, renderSpecial: true, chunk: 1)
}

private func encodeSentencePiece(_ input: inout FuzzInput, parseSpecial: Bool, spaced: Bool) {
    let tokenizer = spaced ? FuzzVocabularies.sentencePieceSpaced : FuzzVocabularies.sentencePiecePlain
    let text = String(decoding: input.rest(), as: UTF8.self)
    let ids = tokenizer.encode(text, addBOS: false, parseSpecial: parseSpecial)
    fuzzCheck(ids.allSatisfy(tokenizer.vocabulary.contains), "encode produced an id outside the vocabulary")
    // "▁" in the text decodes as a space, and the space prefix after special tokens stays.
    if !spaced && !text.unicodeScalars.contains("\u{2581}") {
        let decoded = tokenizer.decode(ids)
        fuzzCheck(decoded == text, "SentencePiece round trip: \(text.debugDescription) → \(ids) → \(decoded.debugDescription)")
    }
    checkStreaming(tokenizer, ids, renderSpecial: parseSpecial, chunk: 3)
}

/// Ids straight from the input: negative, huge and in-range ones, rendered both ways.
private func decodeIDs(_ input: inout FuzzInput, renderSpecial: Bool) {
    var ids: [Int32] = []
    while !input.isAtEnd {
        let kind = input.byte()
        // Mostly small ids (so pieces are hit), sometimes any 32-bit value.
        ids.append(kind & 0x80 != 0 ? input.int32() : Int32(kind) * 3 + Int32(input.byte()) - 8)
    }
    let tokenizers = [FuzzVocabularies.bytePair, FuzzVocabularies.sentencePiecePlain, FuzzVocabularies.sentencePieceSpaced]
    for tokenizer in tokenizers {
        for id in ids.prefix(64) {
            let piece = tokenizer.pieceBytes(id)
            fuzzCheck(tokenizer.vocabulary.contains(id) || piece.isEmpty, "id \(id) outside the vocabulary has a piece")
            _ = (tokenizer.isSpecial(id), tokenizer.isEndOfGeneration(id))
        }
        let raw = tokenizer.decodeBytes(ids, renderSpecial: renderSpecial)
        let inRange = ids.filter(tokenizer.vocabulary.contains)
        fuzzCheck(raw == tokenizer.decodeBytes(inRange, renderSpecial: renderSpecial) || inRange.first != ids.first,
                  "out-of-range ids changed the decoded bytes")
        checkStreaming(tokenizer, ids, renderSpecial: renderSpecial, chunk: ids.count % 5 + 1)
    }
}

/// Messages from the input (role byte, content up to NUL), rendered with each template and
/// tokenized as prompts: content must never produce turn-marker tokens.
private func renderChat(_ input: inout FuzzInput, flags: UInt8) {
    var messages: [ChatMessage] = []
    while !input.isAtEnd && messages.count < 16 {
        let role = ChatRole.allCases[Int(input.byte()) % ChatRole.allCases.count]
        messages.append(ChatMessage(role: role, content: input.text(upTo: 0)))
    }
    let generation = flags & 0x10 != 0
    let templates: [(ChatTemplate, Tokenizer)] = [
        (.chatML(defaultSystem: flags & 0x20 != 0 ? "You are a fuzzer." : nil), FuzzVocabularies.bytePair),
        (.qwen25, FuzzVocabularies.bytePair),
        (.gemma, FuzzVocabularies.sentencePiecePlain),
    ]
    for (template, tokenizer) in templates {
        _ = try? template.validate(messages)
        let prompt = template.renderPrompt(messages, addGenerationPrompt: generation, includeBOS: flags & 0x40 != 0)
        fuzzCheck(prompt.text == template.render(messages, addGenerationPrompt: generation, includeBOS: flags & 0x40 != 0),
                  "render and renderPrompt differ")
        let utf8Count = prompt.text.utf8.count
        var previousEnd = 0
        for range in prompt.contentRanges {
            fuzzCheck(range.lowerBound >= previousEnd && range.upperBound <= utf8Count, "content ranges out of order")
            previousEnd = range.upperBound
        }
        let window = Int(flags) % (utf8Count + 1) ..< utf8Count
        _ = prompt.contentRanges(within: window)
        let ids = tokenizer.encode(prompt, addBOS: flags & 0x80 != 0)
        let opening: Int32, expectedTurns: Int
        switch template {
        case .chatML(let defaultSystem):
            opening = tokenizer.vocabulary.id(of: "<|im_start|>")!
            let addsSystem = defaultSystem != nil && messages.first.map { $0.role != .system } == true
            expectedTurns = messages.count + (addsSystem ? 1 : 0) + (generation ? 1 : 0)
            let decoded = tokenizer.decode(ids)
            fuzzCheck(decoded == prompt.text, "ChatML prompt round trip failed")
        case .gemma:
            opening = tokenizer.vocabulary.id(of: "<start_of_turn>")!
            expectedTurns = messages.filter { $0.role != .system }.count + (generation ? 1 : 0)
        }
        let turns = ids.filter { $0 == opening }.count
        fuzzCheck(turns == expectedTurns, "\(turns) turn markers for \(expectedTurns) turns: content injected or lost a turn")
    }
}

/// Template text as a GGUF's tokenizer.chat_template: family detection and the default system
/// prompt scan (a small Jinja scanner).
private func detectTemplate(_ input: inout FuzzInput) {
    let architecture = input.text(upTo: 0)
    let text = String(decoding: input.rest(), as: UTF8.self)
    _ = try? ChatTemplate.detect(chatTemplate: text, architecture: architecture.isEmpty ? nil : architecture)
    _ = ChatTemplate.chatMLDefaultSystem(inTemplate: text)
}

/// A tokenizer built from arbitrary vocabulary data, as a GGUF file supplies it: token texts (one
/// per line, the first byte giving the type), merge rules, special ids, then text to encode.
/// Inconsistent data must throw TokenizerError; a tokenizer that builds must encode and decode.
private func arbitraryVocabulary(_ input: inout FuzzInput, flags: UInt8) {
    let specials = (0..<3).map { _ in input.int32() }
    let tokenLines = input.bytes(upTo: 0).split(separator: 0x0A, omittingEmptySubsequences: false)
    var tokens: [String] = []
    var types: [TokenType] = []
    var scores: [Float] = []
    for line in tokenLines.prefix(4096) {
        types.append(TokenType(gguf: Int32(line.first ?? 1) % 8))
        scores.append(Float(line.count) - Float(line.first ?? 0) / 16)
        tokens.append(String(decoding: line.dropFirst(), as: UTF8.self))
    }
    let merges = input.bytes(upTo: 0).split(separator: 0x0A).prefix(4096).map { String(decoding: $0, as: UTF8.self) }
    let text = String(decoding: input.rest(), as: UTF8.self)
    func special(_ raw: Int32) -> Int32? {
        // Mostly valid ids, sometimes anything (out of range must be a TokenizerError).
        raw & 0x100 != 0 ? raw : (tokens.isEmpty ? nil : Int32(UInt32(bitPattern: raw) % UInt32(tokens.count)))
    }
    let model: TokenizerModel =
        flags & 0x08 != 0
        ? .sentencePiece(addSpacePrefix: flags & 0x10 != 0)
        : .bytePairEncoding(
            merges: merges, preTokenizer: PreTokenizerKind.allCases[Int(flags >> 4) % PreTokenizerKind.allCases.count],
            addSpacePrefix: flags & 0x40 != 0)
    let tokenizer: Tokenizer
    do {
        let vocabulary = try Vocabulary(tokens: tokens, scores: scores, types: types)
        tokenizer = try Tokenizer(
            vocabulary: vocabulary, model: model,
            specialTokens: SpecialTokenIDs(bos: special(specials[0]), eos: special(specials[1]), unknown: special(specials[2])),
            addBOSByDefault: flags & 0x80 != 0)
    } catch {
        return
    }
    for parseSpecial in [false, true] {
        let ids = tokenizer.encode(text, addBOS: tokenizer.addBOSByDefault, parseSpecial: parseSpecial)
        fuzzCheck(ids.allSatisfy(tokenizer.vocabulary.contains), "encode produced an id outside the vocabulary")
        _ = tokenizer.decode(ids + [-1, Int32(tokenizer.vocabularySize), .max], renderSpecial: parseSpecial)
        var stream = StreamingDecoder(tokenizer: tokenizer)
        _ = stream.append(contentsOf: ids)
        _ = stream.flush()
    }
}
