// The equal-time rule for the self-consistency baseline (anchors: "SC@k at equal wall-time on the
// same solver" is the fair rival of a latent system at small scale).

/// The self-consistency k that spends about what latent spends: latent's mean wall time per
/// question at the plan's largest rounds over the single agent's, on the questions both answered,
/// rounded and clamped to 2 … 64 (each self-consistency sample costs about one single answer).
public struct SelfConsistencyBudget: Sendable, Equatable {
    public var samples: Int
    /// The latent rounds matched.
    public var rounds: Int
    /// Mean seconds per question (summed stage times; shared wall times under batching).
    public var latentSeconds: Double
    public var singleSeconds: Double
    public var questions: Int

    public static let range = 2...64

    /// nil when the plan lacks latent or single, or no question has both answers yet.
    public init?(outcomes: [QuestionOutcome], plan: [(method: InferenceMethod, rounds: Int)]) {
        guard let r = plan.filter({ $0.method == .latent }).map(\.rounds).max(), plan.contains(where: { $0.method == .single }) else {
            return nil
        }
        func seconds(_ method: InferenceMethod, _ rounds: Int) -> [Int: Double] {
            var out: [Int: Double] = [:]
            for o in outcomes where o.method == method && o.rounds == rounds { out[o.index] = o.stages.reduce(0) { $0 + $1.seconds } }
            return out
        }
        let latent = seconds(.latent, r), single = seconds(.single, 1)
        let common = latent.keys.filter { single[$0] != nil }
        guard !common.isEmpty else { return nil }
        let l = common.reduce(0) { $0 + latent[$1]! } / Double(common.count)
        let s = common.reduce(0) { $0 + single[$1]! } / Double(common.count)
        let ratio = s > 0 ? l / s : Double(Self.range.upperBound)
        samples = min(Self.range.upperBound, max(Self.range.lowerBound, Int(ratio.rounded())))
        rounds = r
        latentSeconds = l
        singleSeconds = s
        questions = common.count
    }

    /// For the report: "self-consistency k = 7, chosen to match latent/3's time: …".
    public var note: String {
        "self-consistency k = \(samples), chosen to match latent/\(rounds)'s time: latent " + String(format: "%.1f", latentSeconds)
            + " s per question, single " + String(format: "%.1f", singleSeconds) + " s (means over \(questions) questions; k kept within 2–64)"
    }
}
