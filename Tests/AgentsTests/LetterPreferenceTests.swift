import Foundation
import Testing
import Training

@testable import Agents

@Suite("Letter preferences of multiple-choice reports")
struct LetterPreferenceTests {
    static func outcome(_ index: Int, _ method: InferenceMethod, predicted: String?, expected: String) -> QuestionOutcome {
        QuestionOutcome(index: index, method: method, rounds: 1, predicted: predicted, expected: expected,
                        correct: predicted == expected,
                        stages: [StageRecord(round: 1, node: "solver", promptTokens: 10, latentInputs: 0, latentSteps: 0,
                                             generatedTokens: 1, seconds: 0.1)])
    }

    /// Keys D D D D A B C D (D 5, A B C 1 each). single always answers A, latent always D,
    /// self-consistency every key right, text finds no letter twice.
    static let keys = ["D", "D", "D", "D", "A", "B", "C", "D"]
    static func outcomes() -> [QuestionOutcome] {
        keys.indices.map { outcome($0, .single, predicted: "A", expected: keys[$0]) }
            + keys.indices.map { outcome($0, .latent, predicted: "D", expected: keys[$0]) }
            + keys.indices.map { outcome($0, .selfConsistency, predicted: keys[$0], expected: keys[$0]) }
            + keys.indices.map { outcome($0, .text, predicted: $0 < 2 ? nil : "B", expected: keys[$0]) }
    }

    static let metadata = ComparisonReport.Metadata(system: "s.json", data: "mmlu.jsonl", questions: 8, date: "d",
                                                     machine: "m", command: "rmas compare")

    @Test("counts each row's letters against its keys; chance is what the letters score shuffled")
    func counts() throws {
        let report = ComparisonReport(outcomes: Self.outcomes(), metadata: Self.metadata)
        let letters = try #require(report.letters)
        #expect(letters.count == report.rows.count)
        func row(_ method: InferenceMethod) throws -> LetterPreference { try #require(letters.first { $0.method == method }) }
        let single = try row(.single), latent = try row(.latent), sc = try row(.selfConsistency), text = try row(.text)
        #expect(single.letters == ["A", "B", "C", "D"] && single.answered == [8, 0, 0, 0] && single.keys == [1, 1, 1, 5])
        // A constant answer matches the same keys under every shuffle: chance = correct, p = 1.
        #expect(single.correct == 1 && single.chance == 1 && single.pValue == 1)
        #expect(latent.correct == 5 && latent.chance == 5 && latent.pValue == 1)
        // All right: chance (5·5 + 1 + 1 + 1) / 8 = 3.5; a shuffle gets all 8 with probability 5!/8! = 1/336.
        #expect(sc.correct == 8 && sc.chance == 3.5)
        #expect(sc.pValue > 0.0005 && sc.pValue < 0.01, "p \(sc.pValue), exact 1/336 = 0.003")
        // No letter found counts under "-", listed last; B answers at B keys: 1 of 6.
        #expect(text.letters == ["A", "B", "C", "D", "-"] && text.counts(of: "-") == (2, 0) && text.counts(of: "B") == (6, 1))
        #expect(text.correct == 1 && abs(text.chance - 0.75) < 1e-12)
    }

    @Test("the permutation p-value agrees with the exact hypergeometric tail")
    func permutationMatchesExact() {
        // 10 A and 10 B keys, answers 10 A and 10 B with 16 right: a shuffle's matches are 2X with
        // X ~ Hypergeometric(20, 10, 10), so P(matches ≥ 16) = P(X ≥ 8) = (45² + 10² + 1) / C(20, 10).
        let keys = Array(repeating: "A", count: 10) + Array(repeating: "B", count: 10)
        var answers = keys
        for i in [0, 1] { answers[i] = "B" }
        for i in [10, 11] { answers[i] = "A" }
        let outcomes = keys.indices.map { Self.outcome($0, .single, predicted: answers[$0], expected: keys[$0]) }
        let preference = LetterPreference(method: .single, rounds: 1, outcomes: outcomes)
        #expect(preference.correct == 16 && preference.chance == 10)
        let exact = Double(45 * 45 + 10 * 10 + 1) / 184_756
        #expect(abs(preference.pValue - exact) < 0.004, "p \(preference.pValue), exact \(exact)")
    }

    @Test("the Markdown section shows keys, chance, p and letters; tasks with other answers have none")
    func markdown() throws {
        let md = ComparisonReport(outcomes: Self.outcomes(), metadata: Self.metadata).markdown()
        for line in [
            "## Letter preferences (multiple choice)",
            "Keys of the 8 questions of single 1: A 1, B 1, C 1, D 5; always answering \"D\" scores 5.",
            "| method | rounds | correct | chance | p | A | B | C | D | - |",
            "| single | 1 | 1/8 | 1.0 | 1.000 | 8 | 0 | 0 | 0 | 0 |",
        ] { #expect(md.contains("\n" + line + "\n"), "missing: \(line)\n\(md)") }
        // text's p is random-ish (a shuffle puts a B on the one B key with probability 6/8).
        let text = try #require(md.split(separator: "\n").first { $0.hasPrefix("| text | 1 | 1/8 | 0.8 | ") })
        #expect(text.hasSuffix(" | 0 | 6 | 0 | 0 | 2 |"))
        let math = (0..<4).map { Self.outcome($0, .single, predicted: "12", expected: "12") }
        let report = ComparisonReport(outcomes: math, metadata: Self.metadata)
        #expect(report.letters == nil && !report.markdown().contains("Letter preferences"))
    }

    @Test("json round-trips the preferences (letters stay upper case); a report saved without them recomputes them")
    func json() throws {
        let report = ComparisonReport(outcomes: Self.outcomes(), metadata: Self.metadata)
        let data = try report.json()
        let decoded = try ProjectJSON.decoder().decode(ComparisonReport.self, from: data)
        #expect(decoded == report && decoded.letters?.first?.letters == ["A", "B", "C", "D"])
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["letters"] != nil)
        object["letters"] = nil
        let old = try JSONSerialization.data(withJSONObject: object)
        #expect(try ProjectJSON.decoder().decode(ComparisonReport.self, from: old) == report)
    }
}
