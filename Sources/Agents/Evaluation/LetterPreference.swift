// Letter preferences of multiple-choice answers. On a task whose keys are skewed (200 MMLU-medicine
// questions: 36% D) a method that happens to prefer the common letter scores above one that does
// not, without knowing more; accuracy beside "what these letter choices score when shuffled across
// the questions" separates knowledge from preference.
import Foundation
import Kernels

/// How one (method, rounds) row of a multiple-choice comparison spreads its answers over the
/// letters, against the keys of the same questions.
public struct LetterPreference: Sendable, Codable, Equatable {
    public var method: InferenceMethod
    public var rounds: Int
    /// The letters answered or keyed, in order ("-", replies in which no letter was found, last).
    /// Arrays rather than dictionaries: the project's snake_case JSON would rename letter keys.
    public var letters: [String]
    /// Answers per letter of ``letters``.
    public var answered: [Int]
    /// The keys of the same questions per letter of ``letters``.
    public var keys: [Int]
    /// Questions of the row, and how many were answered right.
    public var questions: Int, correct: Int
    /// Expected correct answers when the row's answers are shuffled across its questions (a
    /// guesser with exactly these letter frequencies): Σ_L answered[L] · keys[L] / questions.
    public var chance: Double
    /// One-sided permutation p-value: the share of ``shuffles`` random reassignments of the
    /// answers to the questions that score at least ``correct``, as (1 + hits) / (1 + shuffles).
    /// Small: the answers match their questions better than their letters alone explain.
    public var pValue: Double
    /// Random reassignments behind ``pValue`` (seeded: the same outcomes give the same value).
    public var shuffles: Int

    /// One row's preferences; `outcomes` are that row's (one per question).
    public init(method: InferenceMethod, rounds: Int, outcomes: [QuestionOutcome], shuffles: Int = 10_000) {
        self.method = method
        self.rounds = rounds
        self.shuffles = shuffles
        questions = outcomes.count
        correct = outcomes.filter(\.correct).count
        let given = outcomes.map { $0.predicted ?? "-" }
        letters = Self.ordered(Set(given).union(outcomes.map(\.expected)))
        let code = Dictionary(uniqueKeysWithValues: letters.enumerated().map { ($1, Int32($0)) })
        var answers = given.map { code[$0]! }  // letters as small integers
        let expected = outcomes.map { code[$0.expected]! }
        var answered = [Int](repeating: 0, count: letters.count), keys = answered
        for a in answers { answered[Int(a)] += 1 }
        for e in expected { keys[Int(e)] += 1 }
        self.answered = answered
        self.keys = keys
        chance = questions == 0 ? 0 : Double(zip(answered, keys).reduce(0) { $0 + $1.0 * $1.1 }) / Double(questions)
        var rng = SplitMix64(seed: 0x4C45_5454_4552)  // "LETTER"
        var hits = 0
        for _ in 0..<shuffles {
            answers.shuffle(using: &rng)
            var matches = 0
            for i in answers.indices where answers[i] == expected[i] { matches += 1 }
            if matches >= correct { hits += 1 }
        }
        pValue = Double(1 + hits) / Double(1 + shuffles)
    }

    /// One entry per (method, rounds) in `rows`' order, when every outcome's key is a single
    /// letter A–Z (a multiple-choice task); nil otherwise.
    static func standard(outcomes: [QuestionOutcome], rows: [ComparisonReport.Row]) -> [LetterPreference]? {
        guard !outcomes.isEmpty, outcomes.allSatisfy({ isLetter($0.expected) }) else { return nil }
        let groups = Dictionary(grouping: outcomes) { ComparisonReport.Key(method: $0.method, rounds: $0.rounds) }
        return rows.compactMap { row in
            groups[ComparisonReport.Key(method: row.method, rounds: row.rounds)].map {
                LetterPreference(method: row.method, rounds: row.rounds, outcomes: $0)
            }
        }
    }

    /// Letters in alphabetical order, "-" last.
    static func ordered(_ letters: Set<String>) -> [String] {
        letters.sorted { ($0 == "-" ? 1 : 0, $0) < ($1 == "-" ? 1 : 0, $1) }
    }

    /// Answers and keys of `letter` (0 when this row has none).
    public func counts(of letter: String) -> (answered: Int, keys: Int) {
        guard let i = letters.firstIndex(of: letter) else { return (0, 0) }
        return (answered[i], keys[i])
    }

    static func isLetter(_ s: String) -> Bool {
        s.unicodeScalars.count == 1 && ("A"..."Z").contains(s.unicodeScalars.first!)
    }

    /// The Markdown section for `preferences` (empty when there are none).
    static func markdown(_ preferences: [LetterPreference]?) -> [String] {
        guard let preferences, let first = preferences.first else { return [] }
        let letters = ordered(Set(preferences.flatMap(\.letters)))
        let widest = preferences.max { $0.questions < $1.questions } ?? first
        let keyed = letters.filter { widest.counts(of: $0).keys > 0 }
        let keyList = keyed.map { "\($0) \(widest.counts(of: $0).keys)" }.joined(separator: ", ")
        let common = keyed.max { widest.counts(of: $0).keys < widest.counts(of: $1).keys }  // first of the most common
        var lines = ["", "## Letter preferences (multiple choice)", ""]
        lines.append("Keys of the \(widest.questions) questions of \(widest.method.rawValue) \(widest.rounds): \(keyList)"
            + (common.map { "; always answering \"\($0)\" scores \(widest.counts(of: $0).keys)." } ?? "."))
        lines.append("Chance: the correct answers a method's own letter frequencies get when its answers are shuffled")
        lines.append("across its questions; p: the share of \(first.shuffles) such shuffles scoring at least its correct")
        lines.append("(one-sided) — small p means its answers fit their questions beyond letter preference.")
        lines.append("")
        lines.append("| method | rounds | correct | chance | p | " + letters.joined(separator: " | ") + " |")
        lines.append("| --- | ---: | ---: | ---: | ---: | " + letters.map { _ in "---:" }.joined(separator: " | ") + " |")
        for preference in preferences {
            let p = preference.pValue < 0.001 ? "<0.001" : String(format: "%.3f", preference.pValue)
            let cells = [
                preference.method.rawValue, "\(preference.rounds)", "\(preference.correct)/\(preference.questions)",
                String(format: "%.1f", preference.chance), p,
            ] + letters.map { "\(preference.counts(of: $0).answered)" }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines
    }
}
