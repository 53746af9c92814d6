// Provenance: slot splicing as spec §2.3 describes it: render the whole chat as a string, split it
// at the slot markers, tokenize each text segment separately (template special tokens recognised), embed
// the segments and put the latent rows where the markers were; markers are never embedded.
// Control tokens are recognised in the template's text only, never inside message content.
import Models
import RoleData
import Tokenization

/// A prompt as input embeddings: text segments with latent thoughts spliced in at named slots.
public struct SlottedPrompt: Sendable {
    /// `[T × D]`, ready for ``Transformer/forward(embeddings:count:cache:outputs:logits:precision:threads:)``.
    public var embeddings: [Float]
    public var count: Int
    /// Token ids of the text positions (nil at latent positions), for accounting and debugging.
    public var tokens: [Int32?]
    /// Each spliced slot's marker and the positions its rows occupy, in order.
    public var slotRanges: [(marker: String, positions: Range<Int>)] = []
    /// Number of positions that are latent rows.
    public var latentCount: Int { tokens.reduce(0) { $0 + ($1 == nil ? 1 : 0) } }

    /// Renders `messages` with the model's chat format (generation prompt appended when
    /// `addGenerationPrompt`), then replaces each slot marker (`<<LATENT_NAME_SLOT>>`, see
    /// ``PromptFill/marker(slot:)``) found in the text with `latents[marker]` (`[m × D]` rows in
    /// the model's embedding space). BOS follows the tokenizer's
    /// metadata and goes before the first segment only. A slot in `latents` that the text lacks
    /// is an error, so a template mistake cannot silently drop an agent's message.
    public init(
        model: LanguageModel, messages: [ChatMessage], latents: [String: [Float]], addGenerationPrompt: Bool = true
    ) throws(AgentError) {
        let d = model.configuration.width
        let rendered = (model.chatTemplate ?? .chatML(defaultSystem: nil)).renderPrompt(messages, addGenerationPrompt: addGenerationPrompt)
        let text = rendered.text
        var pieces: [(text: Substring, slot: String?)] = []
        var rest = Substring(text)
        while let (range, slot) = Self.firstMarker(in: rest) {
            pieces.append((rest[..<range.lowerBound], nil))
            pieces.append(("", slot))
            rest = rest[range.upperBound...]
        }
        pieces.append((rest, nil))
        for slot in latents.keys where !pieces.contains(where: { $0.slot == slot }) {
            throw .invalidArgument("the rendered prompt has no \(slot) for the latent thoughts given")
        }
        var embeddings: [Float] = [], tokens: [Int32?] = [], ranges: [(marker: String, positions: Range<Int>)] = []
        for (index, piece) in pieces.enumerated() {
            if let slot = piece.slot {
                guard let rows = latents[slot] else {
                    throw .invalidArgument("no latent thoughts for \(slot), which the prompt contains")
                }
                guard rows.count % d == 0 else {
                    throw .invalidArgument("latents for \(slot) are not rows of width \(d)")
                }
                embeddings += rows
                ranges.append((slot, tokens.count..<(tokens.count + rows.count / d)))
                tokens += [Int32?](repeating: nil, count: rows.count / d)
            } else if !piece.text.isEmpty || index == 0 {
                let start = text.utf8.distance(from: text.startIndex, to: piece.text.startIndex)
                let ids = model.tokenizer.encode(
                    String(piece.text), addBOS: index == 0 && model.tokenizer.addBOSByDefault, parseSpecial: true,
                    literal: rendered.contentRanges(within: start ..< start + piece.text.utf8.count))
                embeddings += model.transformer.embeddings(ids)
                tokens += ids.map { Optional($0) }
            }
        }
        do { try model.configuration.checkFits(positions: tokens.count) } catch { throw .invalidArgument(error.description) }
        self.embeddings = embeddings
        self.slotRanges = ranges
        self.count = tokens.count
        self.tokens = tokens
    }

    /// The earliest slot marker (`<<LATENT_…_SLOT>>`) in `text`.
    static func firstMarker(in text: Substring) -> (Range<Substring.Index>, String)? {
        var rest = text
        while let open = rest.range(of: "<<LATENT_") {
            if let close = rest[open.upperBound...].range(of: "_SLOT>>") {
                let name = rest[open.upperBound..<close.lowerBound]
                if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
                    return (open.lowerBound..<close.upperBound, String(rest[open.lowerBound..<close.upperBound]))
                }
            }
            rest = rest[open.upperBound...]
        }
        return nil
    }
}
