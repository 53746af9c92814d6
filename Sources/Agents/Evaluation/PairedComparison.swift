// Paired accuracy comparisons for `rmas compare`: every method answers the same questions, so
// two configurations are best compared question by question. Only the questions where exactly
// one of the two is right carry information about which is better; McNemar's exact test asks
// how likely a split at least that uneven is if each such question were a fair coin.
import Foundation

/// Two (method, rounds) configurations compared on the questions both answered.
public struct PairedComparison: Sendable, Codable, Equatable {
    public var first: InferenceMethod
    public var firstRounds: Int
    public var second: InferenceMethod
    public var secondRounds: Int
    /// Questions both configurations answered (the pairs).
    public var questions: Int
    /// Questions only `first` got right.
    public var onlyFirst: Int
    /// Questions only `second` got right.
    public var onlySecond: Int
    /// The exact two-sided p-value of McNemar's test on the discordant questions
    /// (``PairedComparison/exactSignTest(_:_:)``); 1 when there are none.
    public var pValue: Double

    /// Counts the discordant questions of `first` and `second` in `outcomes` (a question counts
    /// only if both configurations have an outcome for it).
    public init(
        _ first: (method: InferenceMethod, rounds: Int), _ second: (method: InferenceMethod, rounds: Int),
        outcomes: [QuestionOutcome]
    ) {
        func correctness(_ c: (method: InferenceMethod, rounds: Int)) -> [Int: Bool] {
            Dictionary(outcomes.filter { $0.method == c.method && $0.rounds == c.rounds }.map { ($0.index, $0.correct) }) { a, _ in a }
        }
        let a = correctness(first), b = correctness(second)
        let shared = a.keys.filter { b[$0] != nil }
        self.first = first.method
        self.firstRounds = first.rounds
        self.second = second.method
        self.secondRounds = second.rounds
        questions = shared.count
        onlyFirst = shared.filter { a[$0]! && !b[$0]! }.count
        onlySecond = shared.filter { !a[$0]! && b[$0]! }.count
        pValue = Self.exactSignTest(onlyFirst, onlySecond)
    }

    /// The exact two-sided sign test of a split `a` : `b`: with n = a + b and X ~ Binomial(n, ½),
    /// `min(1, 2·P(X ≤ min(a, b)))`; 1 for n = 0. Terms are formed in log space, so no n overflows.
    public static func exactSignTest(_ a: Int, _ b: Int) -> Double {
        precondition(a >= 0 && b >= 0, "counts are non-negative")
        let n = a + b
        guard n > 0 else { return 1 }
        // log C(n, i) − n·log 2, built term by term: C(n, i + 1) = C(n, i) · (n − i) / (i + 1).
        var logTerm = Double(n) * -M_LN2
        var tail = exp(logTerm)
        for i in stride(from: 0, to: min(a, b), by: 1) {
            logTerm += log(Double(n - i)) - log(Double(i + 1))
            tail += exp(logTerm)
        }
        return min(1, 2 * tail)
    }

    /// The comparisons a report shows, for the configurations present in `outcomes`: latent
    /// against text, latent-zero and latent-shuffled at each rounds both ran, then latent and then text at
    /// each rounds against the single agent, then latent against single-tuned (and text against it),
    /// solver-inner and self-consistency, and each of those against the single agent; latent-tuned
    /// against single-tuned and against latent.
    public static func standard(outcomes: [QuestionOutcome]) -> [PairedComparison] {
        func rounds(_ method: InferenceMethod) -> [Int] { Set(outcomes.filter { $0.method == method }.map(\.rounds)).sorted() }
        let latent = rounds(.latent), text = rounds(.text), hasSingle = !rounds(.single).isEmpty
        var pairs: [((InferenceMethod, Int), (InferenceMethod, Int))] = []
        pairs += latent.filter(text.contains).map { ((.latent, $0), (.text, $0)) }
        pairs += latent.filter(rounds(.latentZero).contains).map { ((.latent, $0), (.latentZero, $0)) }
        pairs += latent.filter(rounds(.latentShuffled).contains).map { ((.latent, $0), (.latentShuffled, $0)) }
        if hasSingle {
            pairs += latent.map { ((.latent, $0), (.single, 1)) }
            pairs += text.map { ((.text, $0), (.single, 1)) }
        }
        // latent-tuned against its own baselines: the tuned solver alone, and latent untuned.
        let tuned = rounds(.latentTuned)
        if !rounds(.singleTuned).isEmpty { pairs += tuned.map { ((.latentTuned, $0), (.singleTuned, 1)) } }
        pairs += tuned.filter(latent.contains).map { ((.latentTuned, $0), (.latent, $0)) }
        for control in [InferenceMethod.singleTuned, .solverInner, .selfConsistency] where !rounds(control).isEmpty {
            if control == .singleTuned { pairs += text.map { ((.text, $0), (control, 1)) } }
            pairs += latent.map { ((.latent, $0), (control, 1)) }
            if hasSingle { pairs.append(((control, 1), (.single, 1))) }
        }
        return pairs.map { PairedComparison($0.0, $0.1, outcomes: outcomes) }
    }

    /// The Markdown section for `pairs` (empty when there are none).
    static func markdown(_ pairs: [PairedComparison]) -> [String] {
        guard !pairs.isEmpty else { return [] }
        var lines = ["", "## Paired comparisons (same questions)", ""]
        lines.append("Only the questions exactly one of A and B got right count; p is McNemar's exact two-sided test on them.")
        lines.append("")
        lines.append("| A | B | questions | only A right | only B right | p |")
        lines.append("| --- | --- | ---: | ---: | ---: | ---: |")
        for pair in pairs {
            let p = pair.pValue < 0.001 ? "<0.001" : String(format: "%.3f", pair.pValue)
            let cells = [
                "\(pair.first.rawValue) \(pair.firstRounds)", "\(pair.second.rawValue) \(pair.secondRounds)",
                "\(pair.questions)", "\(pair.onlyFirst)", "\(pair.onlySecond)", p,
            ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines
    }
}
