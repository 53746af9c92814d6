// Provenance: the teacher-forced conversation of outer-loop training (spec §2.4): [system, user
// with at most one latent slot, assistant = the dataset's target], spliced as in §2.3; assistant
// positions are those at or after the prompt-only render's length; sequences longer than the
// maximum are cut from the left (prompt side).
import Models
import RoleData
import Tokenization

/// One agent's teacher-forced conversation as input embeddings.
struct TeacherForcedPrompt {
    /// `[T × D]`.
    var embeddings: [Float]
    /// Token ids (nil at latent rows).
    var tokens: [Int32?]
    /// The first assistant position; positions `promptLength ..< count` are the target.
    var promptLength: Int
    /// Positions of the spliced latent rows, and which of the given rows they hold (rows cut by
    /// left truncation are absent and receive no gradient).
    var slotPositions: Range<Int> = 0..<0
    var slotRows: Range<Int> = 0..<0

    var count: Int { tokens.count }
    /// Positions whose hidden state is passed on: the assistant tokens.
    var assistantPositions: Range<Int> { promptLength..<count }
    /// Next-token loss positions t (predicting `tokens[t + 1]`, an assistant token).
    var lossPositions: [Int] { Array((promptLength - 1)..<(count - 1)) }
    var lossTargets: [Int32] { tokens[promptLength...].map { $0! } }

    /// Renders and splices `latents` (`[m × D]`, in the model's embedding space) at `slot`.
    init(model: LanguageModel, system: String, user: String, target: String, slot: LatentSlot?, latents: [Float]?,
         maximumLength: Int) throws(AgentError) {
        var given: [LatentSlot: [Float]] = [:]
        if let slot, let latents { given[slot] = latents }
        let messages: [ChatMessage] = [.system(system), .init(role: .user, content: user)]
        let prompt = try SlottedPrompt(model: model, messages: messages, latents: given, addGenerationPrompt: true)
        let full = try SlottedPrompt(model: model, messages: messages + [.init(role: .assistant, content: target)], latents: given,
                                     addGenerationPrompt: false)
        guard full.count > prompt.count, Array(full.tokens.prefix(prompt.count)) == prompt.tokens else {
            throw .promptNotPrefix(detail: "the rendered prompt (\(prompt.count) positions) is not a prefix of the teacher-forced conversation (\(full.count))")
        }
        let d = model.configuration.width
        let cut = max(0, full.count - maximumLength)
        guard cut < prompt.count else {
            throw .invalidArgument("the target alone is longer than the maximum length \(maximumLength)")
        }
        embeddings = Array(full.embeddings[(cut * d)...])
        tokens = Array(full.tokens[cut...])
        promptLength = prompt.count - cut
        if let first = full.tokens.firstIndex(where: { $0 == nil }) {
            let rows = full.tokens[first...].prefix { $0 == nil }.count
            let kept = max(first, cut)..<(first + rows)
            slotPositions = kept.isEmpty ? 0..<0 : (kept.lowerBound - cut)..<(kept.upperBound - cut)
            slotRows = kept.isEmpty ? 0..<0 : (kept.lowerBound - first)..<rows
        }
    }
}
