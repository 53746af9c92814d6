// Running a comparison: pending answers grouped so that one pass of the largest rounds answers
// every rounds value of a method, each outcome appended as it is graded, and the report kept
// current over the questions every (method, rounds) has answered.
import Foundation
import Kernels
import Models
import RoleData
import Training

extension Comparison {
    /// The pending answers of one question and method, which one pass over the rounds produces.
    struct Batch {
        var index: Int
        var method: InferenceMethod
        var rounds: Set<Int>
    }

    private struct Pair: Hashable {
        var index: Int
        var method: InferenceMethod
    }

    /// `runs` grouped by question and method, in order of first appearance.
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

    /// Answers what `recorded` lacks (the runner is made only then: loading models is the slow
    /// part), appending each outcome to outcomes.jsonl; returns the final report's Markdown.
    /// With ``inFlight`` above 1, that many questions' answers are worked on at once by threads
    /// whose forward calls are batched (``BatchingExecutor``): outcomes are the same, recorded in
    /// the order they finish. Once `drain` is requested no new question's answers start: those in
    /// flight are finished and recorded, and the report covers what is complete (a later run
    /// continues from there).
    public func run(
        recorded existing: [QuestionOutcome], makeRunner: () throws -> GraphRunner, drain: DrainRequest? = nil,
        progress: (Progress) -> Void = { _ in }
    ) throws -> String {
        var recorded = existing
        let resumed = recorded.count
        var batching: BatchingExecutor.Statistics?
        let finished = Set(recorded.map(Run.init))
        let pending = runs.filter { !finished.contains($0) }
        if !pending.isEmpty, drain?.isRequested != true {  // a drain before the start loads no model
            let made = try makeRunner()
            let log = try JSONLines.Appender(url: outcomesURL, encoder: ProjectJSON.encoder())
            let position = Dictionary(uniqueKeysWithValues: questions.enumerated().map { ($0.element.index, $0.offset) })
            let clock = ContinuousClock(), start = clock.now
            var done = 0
            // An automatic self-consistency k is fixed from the other methods' recorded times, so
            // its answers wait until every other answer is in — unless recorded answers fixed it
            // already: then they go with each question's other methods (no tail of them at the end).
            let fixed = recorded.contains { $0.method == .selfConsistency && $0.samples != nil }
            let all = Self.batches(pending), automatic = settings.selfConsistency?.isAutomatic == true && !fixed
            let phases = automatic ? [all.filter { $0.method != .selfConsistency }, all.filter { $0.method == .selfConsistency }] : [all]
            func record(_ batch: Batch, _ outcomes: [QuestionOutcome]) throws {
                for outcome in outcomes {
                    try log.append(outcome)
                    recorded.append(outcome)
                    done += 1
                    let perAnswer = (clock.now - start).seconds / Double(done)
                    progress(Progress(outcome: outcome, position: position[outcome.index]!, questions: questions.count,
                                      recorded: resumed + done, total: runs.count, secondsPerAnswer: perAnswer,
                                      etaSeconds: perAnswer * Double(pending.count - done), accuracies: Self.accuracies(recorded, plan: plan)))
                }
                // A long run keeps a current report, over the questions every method has answered.
                if recorded.filter({ $0.index == batch.index }).count == plan.count {
                    _ = try writeReport(recorded, resumed: resumed)
                }
            }
            for batches in phases where !batches.isEmpty && drain?.isRequested != true {
                let samples = try selfConsistencySamples(recorded)
                if inFlight <= 1 {
                    for batch in batches where drain?.isRequested != true {
                        try record(batch, try answers(questions[position[batch.index]!], batch, runner: made, samples: samples))
                    }
                } else {
                    let executor = BatchingExecutor(threads: threads)
                    let runner = made.with(executor: executor)
                    try ConcurrentWork.run(count: batches.count, workers: inFlight, drain: drain, participate: { executor.participate($0) }) { i in
                        try answers(questions[position[batches[i].index]!], batches[i], runner: runner, samples: samples)
                    } deliver: { i, outcomes in
                        try record(batches[i], outcomes)
                    }
                    batching = executor.statistics
                }
            }
        }
        return try writeReport(recorded, resumed: resumed, batching: batching)
    }

    /// The self-consistency k in effect: the fixed one, or (automatic) the one whose time matches
    /// latent's at the largest rounds (``SelfConsistencyBudget``), from the answers recorded; nil
    /// while it cannot be known yet. Once a self-consistency answer is recorded its k stays, so a
    /// resumed run that asks more questions does not mix answers of different k.
    func selfConsistencySamples(_ recorded: [QuestionOutcome]) throws -> Int? {
        guard let sc = settings.selfConsistency else { return nil }
        guard sc.isAutomatic else { return sc.samples }
        if let k = recorded.first(where: { $0.method == .selfConsistency && $0.samples != nil })?.samples { return k }
        return SelfConsistencyBudget(outcomes: recorded, plan: plan)?.samples
    }

    /// One method's graded answers to one question, one per round count of `batch`; `samples` is
    /// self-consistency's k.
    func answers(_ question: Question, _ batch: Batch, runner: GraphRunner, samples k: Int?) throws -> [QuestionOutcome] {
        var generation = GenerationParameters(maxTokens: settings.maxTokens, threads: threads)
        generation.precision = ActivationPrecision(vectors: settings.textDecodeVectors, matrices: settings.textPrefillFormat)
        if settings.temperature > 0 { generation.sampling = SamplingParameters(temperature: settings.temperature, seed: settings.seed) }
        var samples = 1
        if batch.method == .selfConsistency {
            guard let sc = settings.selfConsistency, let k else {
                throw AgentError.invalidArgument("self-consistency needs its samples (or latent and single answers to match) and temperature")
            }
            generation.sampling = SamplingParameters(temperature: sc.temperature, seed: settings.seed)
            samples = k
        }
        // latent-shuffled takes its latents from the next question of the run (cyclically).
        let position = questions.firstIndex { $0.index == question.index } ?? 0
        let donor = questions.count > 1 ? questions[(position + 1) % questions.count].text : nil
        let results = try runner.run(question: question.text, method: batch.method, roundCounts: batch.rounds,
                                     latentSteps: settings.latentSteps, generation: generation, answerRetry: settings.answerRetry,
                                     answerForm: settings.form,
                                     samples: samples, donor: donor)
        return try results.keys.sorted().map { rounds in
            let result = results[rounds]!
            let predicted = settings.form.extract(from: result.text)
            var correct = settings.form.matches(predicted, expected: question.expected), verdict: String?
            if settings.form == .code {
                (correct, verdict) = try judge(predicted, question)
            }
            return QuestionOutcome(index: batch.index, method: batch.method, rounds: rounds, predicted: predicted,
                                   expected: question.expected, correct: correct, stages: result.stages, text: result.text,
                                   verdict: verdict, samples: batch.method == .selfConsistency ? samples : nil)
        }
    }

    /// A code answer's grade: its program run against the question's tests in the sandbox.
    func judge(_ code: String?, _ question: Question) throws -> (correct: Bool, verdict: String) {
        guard let problem = question.code else {
            throw AgentError.invalidArgument("question \(question.index) has no tests (test and entry_point) to grade code with")
        }
        guard let python else { throw AgentError.invalidArgument("grading code answers needs a Python sandbox") }
        guard let code else { return (false, "no code in the reply") }
        let verdict = try CodeEvaluation.judge(problem.program(code: code), python: python, timeout: codeTimeout)
        return (verdict == "passed", verdict)
    }

    /// Writes report.md, report.json and plot.svg over the questions of `outcomes` that every
    /// (method, rounds) of the plan has answered, and returns the Markdown.
    func writeReport(_ outcomes: [QuestionOutcome], resumed: Int, batching: BatchingExecutor.Statistics? = nil) throws -> String {
        let complete = outcomes.answeredByAll(of: plan)
        let answered = Set(complete.map(\.index)).count
        var notes = [settings.summary]
        if inFlight > 1 {
            notes.append("\(inFlight) questions were answered at once with batched forwards; stage times are wall times shared between them")
        }
        if let batching, batching.forwards > 0 {
            notes.append(String(format: "this invocation's batched forwards served %.1f sequences each on average (%d forwards, largest %d)",
                                batching.meanBatch, batching.forwards, batching.largestBatch))
        }
        if settings.selfConsistency?.isAutomatic == true, let budget = SelfConsistencyBudget(outcomes: outcomes, plan: plan) {
            notes.append(budget.note)
            let used = Set(outcomes.filter { $0.method == .selfConsistency }.compactMap(\.samples)).sorted()
            if !used.isEmpty, used != [budget.samples] {
                notes.append("the self-consistency answers were recorded with k = " + used.map(String.init).joined(separator: ", ")
                             + " (fixed by the first ones recorded); the budget over all answers now gives \(budget.samples)")
            }
        }
        let stages = complete.flatMap(\.stages), reused = stages.filter { $0.reused == true }.count
        if reused > 0 {
            notes.append("\(reused) of the \(stages.count) stages in these answers had the node, prompt and settings of a stage already computed and "
                         + "took its result and time (`--stage-memo-mb`; the same answers as computing them again)")
        }
        if resumed > 0 { notes.append("\(resumed) of \(runs.count) answers were recorded by an earlier invocation") }
        if answered < questions.count {
            notes.append("so far \(answered) of \(questions.count) questions are answered by every method; this report covers those")
        }
        let metadata = ComparisonReport.Metadata(
            system: settings.system, data: settings.data, questions: answered, date: Date().ISO8601Format(), machine: machine,
            command: command, notes: notes, tokenCap: settings.maxTokens)
        let report = ComparisonReport(outcomes: complete, metadata: metadata)
        let markdown = report.markdown()
        try AtomicFile.write(Data(markdown.utf8), to: output.appendingPathComponent("report.md"))
        try AtomicFile.write(try report.json(), to: output.appendingPathComponent("report.json"))
        try AtomicFile.write(Data(report.svg().utf8), to: output.appendingPathComponent("plot.svg"))
        return markdown
    }

    /// Running accuracy of every (method, rounds) of the plan: `S1 2/3 L1 1/3 T1 0/3 …` (``InferenceMethod/abbreviation``).
    static func accuracies(_ outcomes: [QuestionOutcome], plan: [(method: InferenceMethod, rounds: Int)]) -> String {
        plan.map { key in
            let group = outcomes.filter { $0.method == key.method && $0.rounds == key.rounds }
            return "\(key.method.abbreviation)\(key.rounds) \(group.filter(\.correct).count)/\(group.count)"
        }.joined(separator: " ")
    }

    /// CPU model, core count and OS, e.g. "AMD EPYC 9B45, 2 cores, Ubuntu 24.04.2 LTS".
    public static var machine: String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let info = ProcessInfo.processInfo
        return "\(model), \(info.activeProcessorCount) cores, \(info.operatingSystemVersionString)"
    }
}
