// Provenance: prompt tuning (Lester, Al-Rfou & Constant, "The Power of Scale for Parameter-Efficient
// Prompt Tuning", 2021): k trainable input-embedding rows prepended to a frozen model's input,
// initialised from vocabulary embeddings. Here the rows sit at the end of the single-agent user
// message, so the tuned baseline sees the same prompt as `single` plus k rows.
import Foundation
import Kernels
import Models
import RoleData
import Training

/// k trainable embedding rows `[k × D]` for one model's single-agent prompt: the `single-tuned`
/// baseline (the answering model alone, tuned on the same data and step budget as the links).
public final class SoftPrompt: @unchecked Sendable {  // values change only while a trainer owns it
    /// The parameter's name in checkpoints.
    public static let parameterName = "soft_prompt"
    /// Where the rows go in the user message.
    public static let marker = PromptFill.marker(slot: "soft_prompt")

    /// `[k × D]`.
    public let parameter: Parameter
    public var rows: Int { parameter.shape[0] }
    public var width: Int { parameter.shape[1] }

    /// Rows initialised as copies of the embeddings of `rows` vocabulary tokens drawn with `seed`
    /// from the first min(V, 5000) ids (frequent tokens in BPE vocabularies), as the paper's
    /// vocabulary initialisation.
    public init(rows: Int, model: LanguageModel, seed: UInt64) {
        let c = model.configuration
        var generator = SplitMix64(seed: seed)
        let ids = (0..<rows).map { _ in Int32(generator.next() % UInt64(min(c.vocabularySize, 5000))) }
        parameter = Parameter(name: Self.parameterName, shape: [rows, c.width], values: model.transformer.embeddings(ids), decays: false)
    }

    /// The rows of a checkpoint written by ``PromptTuner`` (or its compact export) for a model of width `width`.
    public init(checkpoint directory: URL, width: Int) throws(AgentError) {
        do {
            let (manifest, weights, _) = try CheckpointStore(directory: directory).load()
            guard manifest.kind == PromptTuner.checkpointKind, let link = manifest.links.first, link.outputWidth == width else {
                throw AgentError.checkpoint("\(directory.path) is not a soft prompt for a model of width \(width) (kind \(manifest.kind))")
            }
            parameter = Parameter(name: Self.parameterName, shape: [link.inputWidth, width], decays: false)
            try CheckpointStore.restore(try ParameterSet([parameter]), from: weights)  // refuses a missing, misshapen or non-finite tensor
        } catch let error as AgentError {
            throw error
        } catch {
            throw .checkpoint("\(directory.path): \(error)")
        }
    }

    /// The single-agent user message with the rows' marker after it.
    public static func userPrompt(_ single: String) -> String { single + "\n\n" + marker }
}
