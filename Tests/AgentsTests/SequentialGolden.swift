// The sequential system's greedy behaviour on tiny models as recorded at commit 125dc52 (before
// the agent-graph refactor): answers, stage accounting, outer-objective losses and gradients.
// `RMAS_RECORD_FIXTURES=1` re-records from the code under test and fails the run, so a recording
// never passes; the committed file was recorded once, by the pre-refactor SequentialSystem.
import Foundation
import Kernels
import Testing

/// One recorded answer.
struct RecordedAnswer: Codable, Equatable {
    var question: String
    var method: String
    var rounds: Int
    var text: String
    /// Per stage: node, round, prompt tokens, latent inputs, latent steps, generated tokens, text.
    var stages: [RecordedStage]
}

struct RecordedStage: Codable, Equatable {
    var node: String
    var round: Int
    var promptTokens: Int
    var latentInputs: Int
    var latentSteps: Int
    var generatedTokens: Int
    var text: String?
}

/// One recorded outer-objective evaluation: the loss and, per parameter, the gradient's sum of
/// squares and plain sum (enough to pin the gradient bit-for-bit in practice).
struct RecordedObjective: Codable, Equatable {
    var rounds: Int
    var finalRoundOnly: Bool
    var loss: Double
    var roundLosses: [Double?]
    var gradients: [String: [Double]]
}

struct SequentialGolden: Codable, Equatable {
    var answers: [RecordedAnswer]
    var objectives: [RecordedObjective]

    /// Recorded with the portable reference loop (no BLAS library; since replaced by the built-in
    /// packed GEMM) and, `-openblas`, with OpenBLAS (as CI runs). Float sums depend on the GEMM's
    /// summation order: OpenBLAS runs are compared with their recording exactly, built-in GEMM runs
    /// with the reference loop's within fp32 summation noise (``matches(_:_:)``).
    static func url(openBLAS: Bool) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent(openBLAS ? "Fixtures/sequential-golden-125dc52-openblas.json" : "Fixtures/sequential-golden-125dc52.json")
    }

    /// The recording made with the GEMM backend in use now (OpenBLAS's with any core type).
    static var url: URL { url(openBLAS: BLAS.backend != .builtin) }
    /// Whether the backend in use is the one that recorded: then values must be bit-equal. The
    /// OpenBLAS recording ran its AVX-512 SkylakeX kernel (which rmas picks by itself on AVX-512
    /// CPUs); another core — an environment's `OPENBLAS_CORETYPE=Haswell`, a CPU without
    /// AVX-512 — sums in another order and is compared within noise like the built-in GEMM.
    static var exact: Bool { BLAS.backend == .openBLAS(coreType: "SkylakeX") }

    /// `got == recorded` when ``exact``; otherwise each value within 1e-4 of the largest magnitude
    /// among them: fp32 sums of the same terms in another order, through three rounds of forward
    /// and backward, move losses by ~1e-8 and gradient summaries by up to ~2e-5 relative (measured);
    /// a wrong computation misses by orders of magnitude more.
    static func matches(_ got: [Double?], _ recorded: [Double?]) -> Bool {
        if exact { return got == recorded }
        guard got.count == recorded.count else { return false }
        let scale = max(1e-30, zip(got, recorded).map { max(abs($0 ?? 0), abs($1 ?? 0)) }.max() ?? 0)
        return zip(got, recorded).allSatisfy { a, b in
            switch (a, b) {
            case (nil, nil): true
            case let (x?, y?): abs(x - y) <= 1e-4 * scale
            default: false
            }
        }
    }

    /// A gradient summary `[Σg², Σg]` of `count` entries: equal when ``exact``; otherwise Σg² within
    /// 1e-4 relative and Σg within 1e-4 of √(count·Σg²), the largest |Σg| that norm allows (the
    /// signed sum nearly cancels, so its own relative noise is large).
    static func matchesGradient(_ got: [Double], _ recorded: [Double], count: Int) -> Bool {
        if exact { return got == recorded }
        guard got.count == 2, recorded.count == 2 else { return false }
        let bound = (Double(count) * max(got[0], recorded[0])).squareRoot()
        return abs(got[0] - recorded[0]) <= 1e-4 * max(got[0], recorded[0]) && abs(got[1] - recorded[1]) <= 1e-4 * bound
    }

    static var recording: Bool { ProcessInfo.processInfo.environment["RMAS_RECORD_FIXTURES"] == "1" }
    static let questions = ["What is 2 + 3?", "Tom has 3 apples and buys 4 more. How many apples?\nA. 5\nB. 7"]

    static func load() throws -> SequentialGolden {
        try JSONDecoder().decode(SequentialGolden.self, from: Data(contentsOf: url))
    }

    static func record(_ golden: SequentialGolden) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(golden).write(to: url)
        Issue.record("re-recorded \(url.lastPathComponent); rerun without RMAS_RECORD_FIXTURES")
    }
}
