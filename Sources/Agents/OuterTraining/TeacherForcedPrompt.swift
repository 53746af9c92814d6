// Provenance: the teacher-forced conversation of outer-loop training (spec §2.4): [system, user
// with latent slots, assistant = the dataset's target], spliced as in §2.3; assistant positions
// are those at or after the prompt-only render's length; sequences longer than the maximum are
// cut from the left (prompt side). Also the rollout form this project adds (not the reference's):
// the prompt followed by the fed-back inputs of a latent rollout (spec §3.1), whose passed rows
// are the last prompt position and those inputs' positions — what inference sends.
import Models
import RoleData
import Tokenization

/// One node's teacher-forced conversation as input embeddings.
struct TeacherForcedPrompt {
    /// Where one slot's latent rows landed: positions in the (cut) sequence and which of the
    /// given rows they hold (rows cut by left truncation are absent and receive no gradient).
    struct SlotPlacement {
        var marker: String
        var positions: Range<Int>
        var rows: Range<Int>
    }

    /// `[T × D]`.
    var embeddings: [Float]
    /// Token ids (nil at latent rows).
    var tokens: [Int32?]
    /// The first assistant position; positions `promptLength ..< count` are the target.
    var promptLength: Int
    var slots: [SlotPlacement] = []

    /// Positions whose hidden state is passed on: the assistant tokens (teacher-forced), or
    /// h₀ … h_{m−1} of a rollout (the last prompt position and the m − 1 fed-back inputs).
    var passedPositions: Range<Int>

    var count: Int { tokens.count }
    /// Next-token loss positions t (predicting `tokens[t + 1]`, an assistant token).
    var lossPositions: [Int] { Array((promptLength - 1)..<(count - 1)) }
    var lossTargets: [Int32] { tokens[promptLength...].map { $0! } }

    /// Renders and splices `latents` (marker → `[m × D]`, in the model's embedding space).
    init(model: LanguageModel, system: String, user: String, target: String, latents: [String: [Float]],
         maximumLength: Int) throws(AgentError) {
        let messages: [ChatMessage] = [.system(system), .init(role: .user, content: user)]
        let prompt = try SlottedPrompt(model: model, messages: messages, latents: latents, addGenerationPrompt: true)
        let full = try SlottedPrompt(model: model, messages: messages + [.init(role: .assistant, content: target)], latents: latents,
                                     addGenerationPrompt: false)
        guard full.count > prompt.count, Array(full.tokens.prefix(prompt.count)) == prompt.tokens else {
            throw .promptNotPrefix(detail: "the rendered prompt (\(prompt.count) positions) is not a prefix of the teacher-forced conversation (\(full.count))")
        }
        try self.init(full, promptLength: prompt.count, passedFrom: prompt.count, width: model.configuration.width,
                      maximumLength: maximumLength)
    }

    /// `prompt` (rendered with the generation prompt) followed by a rollout's fed-back inputs
    /// `inputs` `[(m − 1) × D]` (e₁ … e_{m−1}, held as constants): run through the transformer it
    /// gives the rollout's h₀ … h_{m−1} at ``passedPositions``. No loss positions.
    init(rolloutOf prompt: SlottedPrompt, inputs: [Float], width d: Int, maximumLength: Int) throws(AgentError) {
        var full = prompt
        full.embeddings += inputs
        full.tokens += [Int32?](repeating: nil, count: inputs.count / d)
        full.count = full.tokens.count
        try self.init(full, promptLength: full.count, passedFrom: prompt.count - 1, width: d, maximumLength: maximumLength)
    }

    /// `full` cut from the left to `maximumLength`; positions given uncut.
    private init(_ full: SlottedPrompt, promptLength: Int, passedFrom passed: Int, width d: Int, maximumLength: Int) throws(AgentError) {
        let cut = max(0, full.count - maximumLength)
        guard cut <= passed, cut < promptLength else {
            throw .invalidArgument("the \(full.count - passed) positions passed on (the target or the rollout) alone exceed the maximum length \(maximumLength)")
        }
        embeddings = Array(full.embeddings[(cut * d)...])
        tokens = Array(full.tokens[cut...])
        self.promptLength = promptLength - cut
        passedPositions = (passed - cut)..<(full.count - cut)
        for (marker, placed) in full.slotRanges {
            let kept = max(placed.lowerBound, cut)..<placed.upperBound
            guard !kept.isEmpty else { continue }
            slots.append(SlotPlacement(marker: marker, positions: (kept.lowerBound - cut)..<(kept.upperBound - cut),
                                       rows: (kept.lowerBound - placed.lowerBound)..<placed.count))
        }
    }
}
