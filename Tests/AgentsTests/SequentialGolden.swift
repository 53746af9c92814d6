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

    /// Recorded with the portable GEMM (no BLAS library); `-openblas` with OpenBLAS (as CI runs).
    /// Float sums depend on the GEMM, so each backend is compared with its own recording.
    static func url(openBLAS: Bool) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent(openBLAS ? "Fixtures/sequential-golden-125dc52-openblas.json" : "Fixtures/sequential-golden-125dc52.json")
    }

    /// The recording made with the GEMM backend in use now.
    static var url: URL { url(openBLAS: BLAS.backend != .portable) }
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
