import Agents
import ArgumentParser
import Foundation
import Kernels
import Models
import RoleData
import Training

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "RecursiveMAS (latent) against Recursive-TextMAS (text) and the solver alone (single) on the same questions.",
        discussion: """
            Every question is answered by single once (at rounds 1) and by latent and text at each --rounds value, \
            greedily unless --temperature is given. A method's answers at all --rounds values come from one pass of the \
            largest (a run of r rounds is a prefix of a run of r + 1); each answer records the stages of its own rounds. --out receives outcomes.jsonl (one record per question, method and \
            rounds, written as each finishes), report.md, report.json and plot.svg. A run that is stopped can be \
            continued by running the same command again: records already in outcomes.jsonl are not redone. \
            settings.json records what the answers depend on (system file, its prompts and the SHA-256 of each \
            link's weights, data, m, token cap, sampling); a continuation that differs is refused rather than mixed in.
            """)

    @OptionGroup var systemArguments: SystemArguments
    @Option(help: "Evaluation rows (JSONL); the expected answer is final_answer, else the answer extracted from answer.")
    var data: String
    @Option(help: "Questions to ask (default: all from --offset on).") var limit: Int?
    @Option(help: "Skip this many rows first.") var offset = 0
    @Option(help: "Rounds of the latent and text methods, comma-separated.") var rounds = CommaSeparated([1, 2, 3])
    @Option(help: "Methods, comma-separated: latent, text, single.")
    var methods = CommaSeparated(InferenceMethod.allCases)
    @Option(help: "Latent steps m per agent (default: the system's).") var latent: Int?
    @Option(help: "Maximum tokens of each generated text (default: the system's).") var maxTokens: Int?
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(help: "Random seed of sampling.") var seed: UInt64 = 0
    @Flag(inversion: .prefixedNo, help: "Continue answers without a parsable final answer (spec §3.3), for every method alike.")
    var answerRetry = true
    @Option(help: "Output directory (created if needed).") var out: String
    @Option(help: "Worker threads.") var threads = 2

    func validate() throws {
        guard rounds.values.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--rounds values must be at least 1") }
        guard offset >= 0, (limit ?? 1) >= 1, (latent ?? 1) >= 1, (maxTokens ?? 1) >= 1, threads >= 1 else {
            throw ValidationError("--offset must be at least 0; --limit, --latent, --max-tokens and --threads at least 1")
        }
    }

    /// One answer to record: a question (by its row index in --data), a method and its rounds.
    struct Run: Hashable {
        var index: Int
        var method: InferenceMethod
        var rounds: Int

        init(index: Int, method: InferenceMethod, rounds: Int) {
            self.index = index
            self.method = method
            self.rounds = rounds
        }

        init(_ outcome: QuestionOutcome) { self.init(index: outcome.index, method: outcome.method, rounds: outcome.rounds) }

        /// `single/1`, `latent/2`, …
        var label: String { "\(method.rawValue)/\(rounds)" }
    }

    /// What must not change between a run and its continuation (outcomes would not be comparable).
    struct Settings: Codable, Equatable {
        var system: String
        var data: String
        var latentSteps: Int
        var maxTokens: Int
        var temperature: Float
        var seed: UInt64
        var answerRetry: Bool
        /// Every prompt of the graph (``GraphDefinition/promptRecord``; nil: the built-in
        /// sequential wording), so that rewording the same file is not mistaken for the same run.
        /// Files written before it existed decode as nil, which matches the built-in wording.
        var prompts: [String: String]?
        /// SHA-256 of each link checkpoint's weights (``GraphDefinition/linkDigests(relativeTo:)``), so that
        /// links retrained in place are not mistaken for the same run. Files written before it
        /// existed decode as nil, which is taken to match any links.
        var links: [String: String]?

        enum CodingKeys: String, CodingKey {
            case system, data, temperature, seed, prompts, links
            case latentSteps = "latent_steps", maxTokens = "max_tokens", answerRetry = "answer_retry"
        }
    }

    /// (method, rounds) in the order each question runs them: single, then latent and text per rounds.
    var plan: [(method: InferenceMethod, rounds: Int)] {
        let requested = Set(methods.values)
        var out: [(InferenceMethod, Int)] = requested.contains(.single) ? [(.single, 1)] : []
        for r in Array(Set(rounds.values)).sorted() {
            for method in [InferenceMethod.latent, .text] where requested.contains(method) { out.append((method, r)) }
        }
        return out
    }

    /// A question to ask: its row in --data and the answer it is graded against.
    struct Question {
        var index: Int
        var text: String
        var expected: String
    }

    func run() throws {
        let definition = try systemArguments.definition()
        let questions = try selectedQuestions()
        let runs = questions.flatMap { q in plan.map { Run(index: q.index, method: $0.method, rounds: $0.rounds) } }
        guard !runs.isEmpty else { throw ValidationError("nothing to compare: no questions or no methods") }
        let wanted = Set(runs)

        let output = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let settings = Settings(
            system: systemArguments.url.standardizedFileURL.path, data: URL(fileURLWithPath: data).standardizedFileURL.path,
            latentSteps: latent ?? definition.defaults.latentSteps, maxTokens: maxTokens ?? definition.defaults.maxTokens,
            temperature: temperature, seed: seed, answerRetry: answerRetry, prompts: definition.promptRecord,
            links: try definition.linkDigests(relativeTo: systemArguments.url.deletingLastPathComponent()))
        let outcomesURL = output.appendingPathComponent("outcomes.jsonl")
        var recorded = try continuing(settings, outcomes: outcomesURL,
                                      expected: Dictionary(uniqueKeysWithValues: questions.map { ($0.index, $0.expected) }))
        let resumed = recorded.filter { wanted.contains(Run($0)) }.count
        if resumed > 0 { Console.error("continuing: \(resumed) of \(runs.count) answers are already in \(outcomesURL.path)") }

        let finished = Set(recorded.map(Run.init))
        let pending = runs.filter { !finished.contains($0) }
        if !pending.isEmpty {
            BLAS.setThreadCount(threads)
            let loaded = try systemArguments.load(definition, latent: methods.values.contains(.latent))
            let runner = GraphRunner(graph: loaded.graph, tools: try SandboxToolExecutor.forGraph(loaded))
            let log = try JSONLines.Appender(url: outcomesURL)
            Console.error("comparing \(plan.map { Run(index: 0, method: $0.method, rounds: $0.rounds).label }.joined(separator: ", ")) "
                          + "on \(questions.count) questions (\(describe(settings)))")
            let bar = ProgressLine(total: runs.count, plainEvery: 1)
            let position = Dictionary(uniqueKeysWithValues: questions.enumerated().map { ($0.element.index, $0.offset) })
            let clock = ContinuousClock(), start = clock.now
            var done = 0
            for batch in Self.batches(pending) {
                let question = questions[position[batch.index]!]
                for outcome in try answers(question, batch, runner: runner, settings: settings) {
                    try log.append(outcome)
                    recorded.append(outcome)
                    done += 1
                    let perAnswer = (clock.now - start).seconds / Double(done)
                    let text = "q \(position[outcome.index]! + 1)/\(questions.count) \(Run(outcome).label) \(outcome.correct ? "✓" : "✗") | "
                        + Self.accuracies(recorded.filter { wanted.contains(Run($0)) }, plan: plan)
                        + String(format: " | %.1f s/answer | ETA %@", perAnswer,
                                 ProgressLine.duration(perAnswer * Double(pending.count - done)))
                    bar.update(step: resumed + done, text: text)
                }
                // A long run keeps a current report, over the questions every method has answered.
                let answered = recorded.filter { wanted.contains(Run($0)) }
                if answered.filter({ $0.index == batch.index }).count == plan.count {  // this question is now complete
                    _ = try writeReport(answered, questions: questions.count, settings: settings, resumed: resumed, answers: runs.count)
                }
            }
            bar.finish()
        }

        let markdown = try writeReport(recorded.filter { wanted.contains(Run($0)) }, questions: questions.count, settings: settings,
                                       resumed: resumed, answers: runs.count)
        print(markdown.components(separatedBy: "\n## ").first!.trimmingCharacters(in: .newlines))
        Console.error("wrote \(out)/report.md, report.json, plot.svg and outcomes.jsonl")
    }

    /// Writes report.md, report.json and plot.svg over the questions of `outcomes` that every
    /// (method, rounds) of the plan has answered (the others would skew the comparison), and
    /// returns the Markdown.
    func writeReport(_ outcomes: [QuestionOutcome], questions: Int, settings: Settings, resumed: Int, answers: Int) throws -> String {
        let complete = outcomes.answeredByAll(of: plan)
        let answered = Set(complete.map(\.index)).count
        var notes = [describe(settings)]
        if resumed > 0 { notes.append("\(resumed) of \(answers) answers were recorded by an earlier invocation") }
        if answered < questions {
            notes.append("so far \(answered) of \(questions) questions are answered by every method; this report covers those")
        }
        let metadata = ComparisonReport.Metadata(
            system: systemArguments.url.path, data: data, questions: answered, date: Date().ISO8601Format(),
            machine: Self.machine, command: Self.commandLine, notes: notes, tokenCap: settings.maxTokens)
        let report = ComparisonReport(outcomes: complete, metadata: metadata)
        let markdown = report.markdown()
        let output = URL(fileURLWithPath: out)
        try AtomicFile.write(Data(markdown.utf8), to: output.appendingPathComponent("report.md"))
        try AtomicFile.write(try report.json(), to: output.appendingPathComponent("report.json"))
        try AtomicFile.write(Data(report.svg().utf8), to: output.appendingPathComponent("plot.svg"))
        return markdown
    }

    /// The rows --offset and --limit select that have an expected answer (the others are skipped
    /// with a warning).
    func selectedQuestions() throws -> [Question] {
        let rows = try DataRow.read(from: URL(fileURLWithPath: data))
        guard offset < rows.count else { throw ValidationError("--offset \(offset): \(data) has \(rows.count) rows") }
        return (offset..<min(rows.count, offset + (limit ?? rows.count))).compactMap { index in
            let row = rows[index]
            guard let expected = row.finalAnswer ?? row["answer"].flatMap(AnswerExtractor.extract(from:)) else {
                Console.error("warning: row \(index) has no final_answer and no answer to extract; skipped")
                return nil
            }
            return Question(index: index, text: row.question, expected: expected)
        }
    }

    /// The pending answers of one question and method, which one pass over the rounds produces.
    struct Batch {
        var index: Int
        var method: InferenceMethod
        var rounds: Set<Int>
    }

    /// `runs` grouped by question and method, in order of first appearance: a question's latent
    /// answers at rounds 1, 2 and 3 come from one three-round pass (each is a prefix of the next).
    static func batches(_ runs: [Run]) -> [Batch] {
        var out: [Batch] = []
        var slot: [Pair: Int] = [:]
        for run in runs {
            let key = Pair(index: run.index, method: run.method)
            if let i = slot[key] { out[i].rounds.insert(run.rounds) } else {
                slot[key] = out.count
                out.append(Batch(index: run.index, method: run.method, rounds: [run.rounds]))
            }
        }
        return out
    }

    private struct Pair: Hashable {
        var index: Int
        var method: InferenceMethod
    }

    /// One method's graded answers to one question, one per round count of `batch`, by rounds.
    func answers(_ question: Question, _ batch: Batch, runner: GraphRunner, settings: Settings) throws -> [QuestionOutcome] {
        var generation = GenerationParameters(maxTokens: settings.maxTokens, threads: threads)
        if settings.temperature > 0 { generation.sampling = SamplingParameters(temperature: settings.temperature, seed: settings.seed) }
        let results = try runner.run(question: question.text, method: batch.method, roundCounts: batch.rounds,
                                     latentSteps: settings.latentSteps, generation: generation, answerRetry: settings.answerRetry)
        return results.keys.sorted().map { rounds in
            let result = results[rounds]!
            let predicted = AnswerExtractor.extract(from: result.text)
            return QuestionOutcome(index: batch.index, method: batch.method, rounds: rounds, predicted: predicted,
                                   expected: question.expected, correct: AnswerComparator.matches(predicted, expected: question.expected),
                                   stages: result.stages, text: result.text)
        }
    }

    /// "latent steps m = 16; max tokens 256 per generated text; greedy decoding; answer retry on".
    func describe(_ settings: Settings) -> String {
        "latent steps m = \(settings.latentSteps); max tokens \(settings.maxTokens) per generated text; "
            + (settings.temperature > 0 ? "temperature \(settings.temperature), seed \(settings.seed)" : "greedy decoding")
            + "; answer retry \(settings.answerRetry ? "on" : "off")"
    }

    /// The outcomes already recorded in `url`, after checking that they were made with `settings`
    /// on the same questions (each record's expected answer matches the row's); saves `settings`
    /// for the next continuation.
    func continuing(_ settings: Settings, outcomes url: URL, expected: [Int: String]) throws -> [QuestionOutcome] {
        let settingsURL = url.deletingLastPathComponent().appendingPathComponent("settings.json")
        var seen = Set<Run>()
        let recorded = try JSONLines.read(QuestionOutcome.self, from: url).filter { seen.insert(Run($0)).inserted }
        if !recorded.isEmpty, let data = try? Data(contentsOf: settingsURL),
           let previous = try? JSONDecoder().decode(Settings.self, from: data), !Self.difference(previous, settings).isEmpty {
            throw CommandFailure("""
                \(url.path) was recorded with other settings (\(Self.difference(previous, settings))); \
                choose another --out, or delete the file to start over
                """)
        }
        for outcome in recorded {
            if let answer = expected[outcome.index], answer != outcome.expected {
                throw CommandFailure("""
                    \(url.path) holds an answer to question \(outcome.index) expecting "\(outcome.expected)", but that row of \
                    \(data) expects "\(answer)": the data changed; choose another --out
                    """)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(settings), to: settingsURL)
        return recorded
    }

    static func difference(_ a: Settings, _ b: Settings) -> String {
        var out: [String] = []
        if a.system != b.system { out.append("system \(a.system) → \(b.system)") }
        if a.data != b.data { out.append("data \(a.data) → \(b.data)") }
        if a.latentSteps != b.latentSteps { out.append("latent steps \(a.latentSteps) → \(b.latentSteps)") }
        if a.maxTokens != b.maxTokens { out.append("max tokens \(a.maxTokens) → \(b.maxTokens)") }
        if a.temperature != b.temperature || a.seed != b.seed { out.append("sampling") }
        if a.answerRetry != b.answerRetry { out.append("answer retry") }
        if a.prompts != b.prompts { out.append("prompts") }
        if let x = a.links, let y = b.links, x != y {
            let changed = Set(x.keys).union(y.keys).filter { x[$0] != y[$0] }.sorted()
            out.append("link weights (\(changed.joined(separator: ", ")))")
        }
        return out.joined(separator: ", ")
    }

    /// Running accuracy of every (method, rounds) of the plan: `S1 2/3 L1 1/3 T1 0/3 …`.
    static func accuracies(_ outcomes: [QuestionOutcome], plan: [(method: InferenceMethod, rounds: Int)]) -> String {
        plan.map { key in
            let group = outcomes.filter { $0.method == key.method && $0.rounds == key.rounds }
            let letter = key.method.rawValue.prefix(1).uppercased()
            return "\(letter)\(key.rounds) \(group.filter(\.correct).count)/\(group.count)"
        }.joined(separator: " ")
    }

    /// CPU model, core count and OS, e.g. "AMD EPYC 9B45, 2 cores, Ubuntu 24.04.2 LTS".
    static var machine: String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let info = ProcessInfo.processInfo
        return "\(model), \(info.activeProcessorCount) cores, \(info.operatingSystemVersionString)"
    }

    /// The command line as typed, arguments quoted for a POSIX shell where needed.
    static var commandLine: String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./,=:@%+")
        return (["rmas"] + CommandLine.arguments.dropFirst()).map { argument in
            !argument.isEmpty && argument.allSatisfy(safe.contains) ? argument
                : "'" + argument.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        }.joined(separator: " ")
    }
}
