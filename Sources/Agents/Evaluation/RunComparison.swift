// Paired comparisons across `rmas compare` runs: another system (a self-refinement control, a
// retrained system, an expert alone), other settings, the same questions. Each run's own report
// pairs its methods; this pairs configurations of different runs, question by question, on the
// questions every configuration answered. The report only returns strings and data.
import Foundation
import RoleData
import Training

/// Configurations of several comparison runs on the questions they all answered, with McNemar's
/// exact test on the requested pairs.
public struct RunComparison: Sendable, Codable, Equatable {
    /// One `rmas compare` output directory's records, under a label of the caller's choosing.
    public struct Run: Sendable {
        public var label: String
        /// The data file the run read (its settings' `data`), for the report.
        public var data: String
        public var outcomes: [QuestionOutcome]

        public init(label: String, data: String, outcomes: [QuestionOutcome]) {
            self.label = label
            self.data = data
            self.outcomes = outcomes
        }

        /// Reads `directory`'s settings.json and outcomes.jsonl (a continued run's duplicate
        /// records keep their first copy, as `rmas compare` does).
        public static func load(label: String, directory: URL) throws -> Run {
            let settingsURL = directory.appendingPathComponent("settings.json")
            guard let data = try? Data(contentsOf: settingsURL) else {
                throw AgentError.invalidArgument("\(directory.path) is not an rmas compare output directory (no readable settings.json)")
            }
            let settings: Comparison.Settings
            do { settings = try JSONDecoder().decode(Comparison.Settings.self, from: data) } catch {
                throw AgentError.invalidArgument("\(settingsURL.path): not a compare settings file: \(error)")
            }
            var seen = Set<Comparison.Run>()
            let outcomes = try JSONLines.read(QuestionOutcome.self, from: directory.appendingPathComponent("outcomes.jsonl"),
                                              decoder: ProjectJSON.decoder())
                .filter { seen.insert(Comparison.Run($0)).inserted }
            // A run that recorded nothing (no file, an empty one, or only a cut-off first line)
            // would only shrink the shared questions to none; say which run it is.
            guard !outcomes.isEmpty else {
                throw AgentError.invalidArgument("\(directory.path) holds no recorded answers (outcomes.jsonl is missing, empty, or only a partial line)")
            }
            return Run(label: label, data: settings.data, outcomes: outcomes)
        }
    }

    /// A method at some rounds in one run: "label:method@rounds" (e.g. "v2:latent@2").
    public struct Configuration: Sendable, Codable, Hashable, CustomStringConvertible {
        public var run: String
        public var method: InferenceMethod
        public var rounds: Int

        public init(run: String, method: InferenceMethod, rounds: Int) {
            self.run = run
            self.method = method
            self.rounds = rounds
        }

        /// Parses "label:method@rounds"; "@rounds" may be left out for a one-shot method (rounds 1).
        public init(parsing text: String) throws(AgentError) {
            guard let colon = text.lastIndex(of: ":"), colon != text.startIndex else {
                throw .invalidArgument("'\(text)' is not LABEL:METHOD@ROUNDS")
            }
            let label = String(text[..<colon]), rest = text[text.index(after: colon)...]
            let parts = rest.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count <= 2, let method = InferenceMethod(rawValue: String(parts[0])) else {
                throw .invalidArgument("'\(text)': '\(parts.first ?? "")' is not a method (\(InferenceMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let rounds = parts.count == 2 ? Int(parts[1]) : 1
            guard let rounds, rounds >= 1 else { throw .invalidArgument("'\(text)': the rounds must be a positive integer") }
            self.init(run: label, method: method, rounds: rounds)
        }

        public var description: String { "\(run):\(method.rawValue)@\(rounds)" }
    }

    /// One configuration on the shared questions.
    public struct Row: Sendable, Codable, Equatable {
        public var configuration: Configuration
        public var correct: Int
        public var accuracy: Double
        /// The 95% Wilson interval of ``accuracy``.
        public var accuracyInterval: ComparisonReport.Interval
        /// Mean wall seconds and generated tokens per shared question (all stages).
        public var meanSeconds: Double
        public var meanGeneratedTokens: Double
    }

    /// Two configurations on the shared questions.
    public struct Pair: Sendable, Codable, Equatable {
        public var first: Configuration
        public var second: Configuration
        public var onlyFirst: Int
        public var onlySecond: Int
        /// McNemar's exact two-sided p (``PairedComparison/exactSignTest(_:_:)``).
        public var pValue: Double
    }

    /// The runs' labels and data files, in the order given.
    public var runs: [String: String]
    /// Question indices every configuration answered, ascending.
    public var questions: [Int]
    public var rows: [Row]
    public var pairs: [Pair]

    /// Pairs `pairs` (default: every two configurations of different runs with the same method
    /// and rounds) on the questions every configuration of every run answered. Refuses runs whose
    /// shared questions expect different answers (other data), duplicate labels, and pairs naming
    /// a configuration no run has.
    public init(runs: [Run], pairs requested: [(Configuration, Configuration)]? = nil) throws(AgentError) {
        guard runs.count >= 2 else { throw .invalidArgument("a comparison across runs needs at least two runs (got \(runs.count))") }
        guard Set(runs.map(\.label)).count == runs.count else { throw .invalidArgument("run labels must differ: \(runs.map(\.label))") }
        var byConfiguration: [Configuration: [Int: QuestionOutcome]] = [:]
        var expected: [Int: (answer: String, run: String)] = [:]
        for run in runs {
            for outcome in run.outcomes {
                if let earlier = expected[outcome.index], earlier.answer != outcome.expected {
                    throw .invalidArgument("""
                        question \(outcome.index) expects "\(earlier.answer)" in run '\(earlier.run)' but "\(outcome.expected)" in run \
                        '\(run.label)': the runs read different data
                        """)
                }
                expected[outcome.index] = (outcome.expected, run.label)
                byConfiguration[Configuration(run: run.label, method: outcome.method, rounds: outcome.rounds), default: [:]][outcome.index] = outcome
            }
        }
        guard !byConfiguration.isEmpty else { throw .invalidArgument("the runs hold no recorded answers") }
        let order = Dictionary(uniqueKeysWithValues: runs.enumerated().map { ($1.label, $0) })
        let configurations = byConfiguration.keys.sorted {
            (order[$0.run]!, $0.method.rank, $0.rounds) < (order[$1.run]!, $1.method.rank, $1.rounds)
        }
        let shared = configurations.map { Set(byConfiguration[$0]!.keys) }.reduce(Set(expected.keys)) { $0.intersection($1) }.sorted()
        guard !shared.isEmpty else { throw .invalidArgument("no question was answered by every configuration of every run") }
        self.runs = Dictionary(uniqueKeysWithValues: runs.map { ($0.label, $0.data) })
        questions = shared
        rows = configurations.map { c in
            let answers = shared.map { byConfiguration[c]![$0]! }
            let correct = answers.filter(\.correct).count, n = Double(answers.count)
            return Row(configuration: c, correct: correct, accuracy: Double(correct) / n,
                       accuracyInterval: ComparisonReport.wilsonInterval(correct: correct, total: answers.count),
                       meanSeconds: answers.reduce(0) { $0 + $1.stages.reduce(0) { $0 + $1.seconds } } / n,
                       meanGeneratedTokens: answers.reduce(0) { $0 + Double($1.stages.reduce(0) { $0 + $1.generatedTokens }) } / n)
        }
        let wanted = requested ?? configurations.enumerated().flatMap { i, a in
            configurations[(i + 1)...].filter { $0.run != a.run && $0.method == a.method && $0.rounds == a.rounds }.map { (a, $0) }
        }
        pairs = try wanted.map { (a, b) throws(AgentError) in
            guard let x = byConfiguration[a] else { throw .invalidArgument("no run has \(a) (runs: \(runs.map(\.label).joined(separator: ", ")))") }
            guard let y = byConfiguration[b] else { throw .invalidArgument("no run has \(b) (runs: \(runs.map(\.label).joined(separator: ", ")))") }
            let onlyFirst = shared.filter { x[$0]!.correct && !y[$0]!.correct }.count
            let onlySecond = shared.filter { !x[$0]!.correct && y[$0]!.correct }.count
            return Pair(first: a, second: b, onlyFirst: onlyFirst, onlySecond: onlySecond,
                        pValue: PairedComparison.exactSignTest(onlyFirst, onlySecond))
        }
    }

    /// The comparison as pretty-printed JSON (snake_case keys, sorted).
    public func json() throws -> Data { try ProjectJSON.encoder(pretty: true).encode(self) }

    /// The comparison as Markdown: the runs, one row per configuration, the paired comparisons.
    public func markdown() -> String {
        var lines = ["# Comparison across runs", ""]
        for label in runs.keys.sorted() { lines.append("- \(label): \(runs[label]!)") }
        lines.append("- shared questions: \(questions.count) (answered by every configuration below)")
        lines += ["", "| configuration | correct | accuracy (95% CI) | tokens/question | s/question |", "| --- | ---: | ---: | ---: | ---: |"]
        for row in rows {
            lines.append(String(format: "| %@ | %d/%d | %.1f%% (%.1f–%.1f) | %.1f | %.2f |", row.configuration.description, row.correct,
                                questions.count, 100 * row.accuracy, 100 * row.accuracyInterval.lower, 100 * row.accuracyInterval.upper,
                                row.meanGeneratedTokens, row.meanSeconds))
        }
        if !pairs.isEmpty {
            lines += ["", "## Paired comparisons (same questions)", "",
                      "Only the questions exactly one of A and B got right count; p is McNemar's exact two-sided test on them.", "",
                      "| A | B | only A right | only B right | p |", "| --- | --- | ---: | ---: | ---: |"]
            for pair in pairs {
                let p = pair.pValue < 0.001 ? "<0.001" : String(format: "%.3f", pair.pValue)
                lines.append("| \(pair.first) | \(pair.second) | \(pair.onlyFirst) | \(pair.onlySecond) | \(p) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
