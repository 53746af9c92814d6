// The comparison report of `rmas compare`: RecursiveMAS (latent) against Recursive-TextMAS (text)
// and the final agent alone (single), aggregated from per-question outcomes. The report only
// returns strings and data; writing them is the caller's business.
import Foundation
import RoleData
import Training

/// Accuracy, token usage and wall time of each inference method at each number of rounds.
///
/// Built from the raw ``QuestionOutcome``s, which it keeps (and writes into ``json()``), so a
/// saved report can always be recomputed: `ComparisonReport(outcomes: saved.outcomes, metadata: saved.metadata)`.
public struct ComparisonReport: Sendable, Codable, Equatable {
    /// Where and how the comparison was run; copied into the report verbatim.
    public struct Metadata: Sendable, Codable, Equatable {
        /// The system definition file (or a name for it).
        public var system: String
        /// The evaluation data file.
        public var data: String
        /// Questions asked of each method (as requested; rows count what was actually recorded).
        public var questions: Int
        /// When the run happened, as the caller wants it shown (ISO 8601 recommended).
        public var date: String
        /// The machine it ran on (CPU, cores, OS).
        public var machine: String
        /// The command line that produced the report.
        public var command: String
        /// Free-form remarks, one per line.
        public var notes: [String]
        /// The most tokens one generated text may have (nil if unknown): stages that reach it were
        /// cut off, which the per-stage table counts.
        public var tokenCap: Int?

        public init(system: String, data: String, questions: Int, date: String, machine: String, command: String,
                    notes: [String] = [], tokenCap: Int? = nil) {
            self.tokenCap = tokenCap
            self.system = system
            self.data = data
            self.questions = questions
            self.date = date
            self.machine = machine
            self.command = command
            self.notes = notes
        }
    }

    /// A two-sided confidence interval of a proportion, both ends in [0, 1].
    public struct Interval: Sendable, Codable, Equatable {
        public var lower: Double
        public var upper: Double

        public init(lower: Double, upper: Double) {
            self.lower = lower
            self.upper = upper
        }
    }

    /// Mean cost of one stage (one agent in one round) of a method, per question that ran it.
    public struct StageMean: Sendable, Codable, Equatable {
        public var round: Int
        /// The node (JSON key "role", as in reports written before agent graphs).
        public var node: String
        /// Questions whose record contains this stage (the divisor of the means below).
        public var questions: Int
        /// Mean wall seconds the stage took.
        public var meanSeconds: Double
        /// Mean tokens the stage generated as text (0 for a latent-only stage).
        public var meanGeneratedTokens: Double
        /// Questions whose stage generated the whole token cap, i.e. was cut off (nil when the
        /// report's metadata has no cap).
        public var atTokenCap: Int?

        enum CodingKeys: String, CodingKey {
            case round, node = "role", questions, meanSeconds, meanGeneratedTokens, atTokenCap
        }
    }

    /// The aggregate of one method at one number of rounds.
    public struct Row: Sendable, Codable, Equatable {
        public var method: InferenceMethod
        public var rounds: Int
        /// Outcomes recorded for this method and rounds.
        public var questions: Int
        /// Outcomes whose answer was graded correct.
        public var correct: Int
        /// `correct / questions`, in [0, 1].
        public var accuracy: Double
        /// The 95% Wilson score interval of ``accuracy`` (see ``ComparisonReport/wilsonInterval(correct:total:z:)``).
        public var accuracyInterval: Interval
        /// Mean tokens generated as text per question, all agents and rounds together (the paper's token usage).
        public var meanGeneratedTokens: Double
        /// Mean text prompt tokens read per question (latent inputs are not tokens and are not counted).
        public var meanPromptTokens: Double
        /// Mean latent thought steps per question, all agents and rounds together.
        public var meanLatentSteps: Double
        /// Mean end-to-end wall seconds per question (the sum of its stages).
        public var meanSeconds: Double
        /// Wall seconds of all questions together.
        public var totalSeconds: Double
        /// Recursive-TextMAS mean seconds at the same rounds divided by this row's: 2 means twice as fast.
        /// Nil when no text row has these rounds or this row's mean seconds are 0.
        public var speedupVersusText: Double?
        /// `1 − this row's mean generated tokens / the text row's` at the same rounds: 0.75 means a quarter
        /// of the tokens; negative when this row generates more. Nil when no text row has these rounds or it
        /// generated no tokens.
        public var tokenReductionVersusText: Double?
        /// Per-stage means, by round and then in pipeline order (planner, refiner, solver).
        public var stages: [StageMean]
    }

    public var metadata: Metadata
    /// One row per (method, rounds): single first, then by rounds, latent before text.
    public var rows: [Row]
    /// The raw per-question outcomes the rows were computed from, in the order given.
    public var outcomes: [QuestionOutcome]
    /// Question-by-question accuracy comparisons (``PairedComparison/standard(outcomes:)``).
    public var pairs: [PairedComparison]
    /// Multiple-choice tasks (every key one letter): each row's letter frequencies against its
    /// keys, and what they score shuffled (``LetterPreference``); nil for other tasks.
    public var letters: [LetterPreference]?

    /// Aggregates `outcomes` into rows; an empty list gives a report with no rows.
    public init(outcomes: [QuestionOutcome], metadata: Metadata) {
        self.metadata = metadata
        self.outcomes = outcomes
        let groups = Dictionary(grouping: outcomes) { Key(method: $0.method, rounds: $0.rounds) }
        var rows = groups.keys.sorted().map { Self.aggregate(groups[$0]!, key: $0, tokenCap: metadata.tokenCap) }
        let textByRounds = Dictionary(uniqueKeysWithValues: rows.filter { $0.method == .text }.map { ($0.rounds, $0) })
        for i in rows.indices {
            guard let text = textByRounds[rows[i].rounds] else { continue }
            if rows[i].meanSeconds > 0 { rows[i].speedupVersusText = text.meanSeconds / rows[i].meanSeconds }
            if text.meanGeneratedTokens > 0 {
                rows[i].tokenReductionVersusText = 1 - rows[i].meanGeneratedTokens / text.meanGeneratedTokens
            }
        }
        self.rows = rows
        pairs = PairedComparison.standard(outcomes: outcomes)
        letters = LetterPreference.standard(outcomes: outcomes, rows: rows)
    }

    private enum CodingKeys: String, CodingKey { case metadata, rows, outcomes, pairs, letters }

    /// Decodes a saved report; one saved before paired comparisons or letter preferences existed
    /// gets them recomputed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(Metadata.self, forKey: .metadata)
        rows = try container.decode([Row].self, forKey: .rows)
        outcomes = try container.decode([QuestionOutcome].self, forKey: .outcomes)
        pairs = try container.decodeIfPresent([PairedComparison].self, forKey: .pairs)
            ?? PairedComparison.standard(outcomes: outcomes)
        letters = try container.decodeIfPresent([LetterPreference].self, forKey: .letters)
            ?? LetterPreference.standard(outcomes: outcomes, rows: rows)
    }

    /// The row of `method` at `rounds`, if any outcome was recorded for it.
    public func row(_ method: InferenceMethod, rounds: Int) -> Row? {
        rows.first { $0.method == method && $0.rounds == rounds }
    }

    /// The Wilson score interval of a proportion `correct / total` (Wilson 1927):
    ///
    ///     centre = (p + z²/2n) / (1 + z²/n),   half-width = z / (1 + z²/n) · √(p(1 − p)/n + z²/4n²)
    ///
    /// Unlike the normal approximation it stays inside [0, 1] and is sensible at p = 0, p = 1 and small n.
    /// `z` = 1.959964 gives 95%. With `total` = 0 nothing is known and the interval is [0, 1].
    public static func wilsonInterval(correct: Int, total: Int, z: Double = 1.959_963_984_540_054) -> Interval {
        guard total > 0 else { return Interval(lower: 0, upper: 1) }
        let n = Double(total), p = Double(correct) / n, z2 = z * z
        let denominator = 1 + z2 / n
        let centre = (p + z2 / (2 * n)) / denominator
        let half = z / denominator * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return Interval(lower: max(0, centre - half), upper: min(1, centre + half))
    }

    // MARK: - Output

    /// The report as pretty-printed JSON (the project's snake_case keys, sorted): metadata, rows,
    /// paired comparisons and the raw outcomes; read it back with ``ProjectJSON/decoder()``.
    /// Throws only what `JSONEncoder` throws (a non-finite number in an outcome).
    public func json() throws -> Data { try ProjectJSON.encoder(pretty: true).encode(self) }

    /// The report as Markdown: a title, the metadata, the main table, the paired comparisons, the
    /// letter preferences (multiple-choice tasks) and the per-stage table.
    ///
    /// Main table columns: accuracy as a percentage with its 95% Wilson interval; tokens generated per
    /// question; latent steps per question; wall seconds per question; speedup and token reduction
    /// versus Recursive-TextMAS at the same rounds. "—" marks a value that does not exist.
    public func markdown() -> String {
        var lines = ["# RecursiveMAS comparison", ""]
        lines.append("- system: \(metadata.system)")
        lines.append("- data: \(metadata.data) (\(metadata.questions) questions)")
        lines.append("- date: \(metadata.date)")
        lines.append("- machine: \(metadata.machine)")
        lines.append("- command: `\(metadata.command)`")
        lines += metadata.notes.map { "- note: \($0)" }
        lines.append("")
        guard !rows.isEmpty else {
            lines.append("No outcomes were recorded, so there is nothing to compare.")
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append("Methods: latent = RecursiveMAS, text = Recursive-TextMAS, single = the final agent alone.")
        lines.append("Speedup and token reduction are relative to text at the same rounds.")
        lines.append("")
        lines.append("| method | rounds | correct | accuracy (95% CI) | tokens/question | latent steps | s/question | speedup vs text | token reduction vs text |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in rows {
            let interval = row.accuracyInterval
            let accuracy = "\(Self.percent(row.accuracy)) (\(Self.percent(interval.lower))–\(Self.percent(interval.upper)))"
            let cells = [
                row.method.rawValue, "\(row.rounds)", "\(row.correct)/\(row.questions)", accuracy,
                Self.fixed(row.meanGeneratedTokens, 1), Self.fixed(row.meanLatentSteps, 1), Self.seconds(row.meanSeconds),
                row.speedupVersusText.map { Self.fixed($0, 2) + "×" } ?? "—",
                row.tokenReductionVersusText.map(Self.percent) ?? "—",
            ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines += PairedComparison.markdown(pairs)
        lines += LetterPreference.markdown(letters)
        lines.append("")
        lines.append("## Per stage (means per question)")
        lines.append("")
        let cap = metadata.tokenCap.map { " (\($0))" } ?? ""
        lines.append("| method | rounds | round | node | s | generated tokens | at token cap\(cap) |")
        lines.append("| --- | ---: | ---: | --- | ---: | ---: | ---: |")
        for row in rows {
            for stage in row.stages {
                let cells = [
                    row.method.rawValue, "\(row.rounds)", "\(stage.round)", stage.node,
                    Self.seconds(stage.meanSeconds), Self.fixed(stage.meanGeneratedTokens, 1),
                    stage.atTokenCap.map { "\($0)/\(stage.questions)" } ?? "—",
                ]
                lines.append("| " + cells.joined(separator: " | ") + " |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Aggregation

    /// A (method, rounds) group, ordered as the rows are: one-shot methods first, then by rounds, latent before latent-zero before text.
    struct Key: Hashable, Comparable {
        var method: InferenceMethod
        var rounds: Int

        static func < (a: Key, b: Key) -> Bool {
            let oneShotA = a.method.usesRounds ? 1 : 0, oneShotB = b.method.usesRounds ? 1 : 0
            return (oneShotA, a.rounds, a.method.rank) < (oneShotB, b.rounds, b.method.rank)
        }
    }

    /// One row from a non-empty group; the comparison columns are filled in afterwards.
    static func aggregate(_ group: [QuestionOutcome], key: Key, tokenCap: Int? = nil) -> Row {
        let n = Double(group.count)
        let correct = group.filter(\.correct).count
        let totalSeconds = group.reduce(0) { $0 + $1.seconds }
        func mean(_ value: (QuestionOutcome) -> Int) -> Double { Double(group.reduce(0) { $0 + value($1) }) / n }

        struct StageKey: Hashable { var round: Int, node: String }
        var seconds: [StageKey: Double] = [:], tokens: [StageKey: Int] = [:], counts: [StageKey: Int] = [:]
        var capped: [StageKey: Int] = [:]
        for outcome in group {
            for stage in outcome.stages {
                let k = StageKey(round: stage.round, node: stage.node)
                seconds[k, default: 0] += stage.seconds
                tokens[k, default: 0] += stage.generatedTokens
                if let tokenCap, stage.generatedTokens >= tokenCap { capped[k, default: 0] += 1 }
            }
            for k in Set(outcome.stages.map { StageKey(round: $0.round, node: $0.node) }) { counts[k, default: 0] += 1 }
        }
        var order: [String] = []  // nodes in the order they first act
        for outcome in group { for stage in outcome.stages where !order.contains(stage.node) { order.append(stage.node) } }
        let stages = counts.keys
            .sorted { ($0.round, order.firstIndex(of: $0.node)!) < ($1.round, order.firstIndex(of: $1.node)!) }
            .map { k in
                StageMean(round: k.round, node: k.node, questions: counts[k]!, meanSeconds: seconds[k]! / Double(counts[k]!),
                          meanGeneratedTokens: Double(tokens[k]!) / Double(counts[k]!),
                          atTokenCap: tokenCap.map { _ in capped[k, default: 0] })
            }
        return Row(
            method: key.method, rounds: key.rounds, questions: group.count, correct: correct,
            accuracy: Double(correct) / n, accuracyInterval: wilsonInterval(correct: correct, total: group.count),
            meanGeneratedTokens: mean(\.generatedTokens), meanPromptTokens: mean(\.promptTokens),
            meanLatentSteps: mean(\.latentSteps), meanSeconds: totalSeconds / n, totalSeconds: totalSeconds,
            speedupVersusText: nil, tokenReductionVersusText: nil, stages: stages)
    }

    // MARK: - Number formatting

    /// `x` with `digits` decimals.
    static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

    /// A fraction as a percentage with one decimal: 0.8333 → "83.3%".
    static func percent(_ x: Double) -> String { fixed(x * 100, 1) + "%" }

    /// Seconds with three significant-ish decimals below 10 s, one decimal above.
    static func seconds(_ x: Double) -> String { x < 10 ? fixed(x, 3) : fixed(x, 1) }
}
