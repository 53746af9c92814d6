import Foundation
@testable import Agents
import Sandbox
import Testing

@Suite("Code evaluation (HumanEval format, sandboxed)")
struct CodeEvaluationTests {
    static let problem = CodeProblem(
        taskID: "T/0", prompt: "def add(a, b):\n", canonicalSolution: "    return a + b\n",
        test: "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n", entryPoint: "add")

    @Test("unbiased pass@k: known values and edges")
    func passAtK() {
        #expect(abs(CodeEvaluation.passAtK(n: 5, c: 2, k: 1) - 0.4) < 1e-12)
        #expect(abs(CodeEvaluation.passAtK(n: 10, c: 3, k: 5) - (1 - 21.0 / 252.0)) < 1e-12, "1 − C(7,5)/C(10,5)")
        #expect(CodeEvaluation.passAtK(n: 4, c: 0, k: 2) == 0)
        #expect(CodeEvaluation.passAtK(n: 4, c: 3, k: 2) == 1, "every pair holds a pass")
    }

    @Test("verdicts: pass, wrong answer, exception, endless loop and a hostile completion, each contained")
    func verdicts() throws {
        let samples = [
            CodeSample(taskID: "T/0", completion: "    return a + b\n"),
            CodeSample(taskID: "T/0", completion: "    return a - b\n"),
            CodeSample(taskID: "T/0", completion: "    raise ValueError('no')\n"),
            CodeSample(taskID: "T/0", completion: "    while True:\n        pass\n"),
            CodeSample(taskID: "T/0", completion: "    import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)\n    return a + b\n"),
        ]
        let results = try CodeEvaluation.evaluate(problems: [Self.problem], samples: samples, python: try PythonSandbox(), timeout: 2)
        #expect(results.map(\.passed) == [true, false, false, false, results[4].passed])
        #expect(results[0].result == "passed" && results[1].result.hasPrefix("failed: AssertionError"))
        #expect(results[2].result.contains("ValueError") && results[3].result == "timed out")
        #expect(kill(getpid(), 0) == 0, "the test process survives a completion that signals its parent")
        let scores = CodeEvaluation.passAtK(results, ks: [1, 5, 6])
        #expect(scores[6] == nil, "k above the samples per problem is not reported")
        #expect(throws: AgentError.self) {
            try CodeEvaluation.evaluate(problems: [Self.problem], samples: [CodeSample(taskID: "T/9", completion: "")], python: try PythonSandbox())
        }
    }

    @Test("malformed problem and sample files are refused with file:line")
    func malformed() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-code-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("{\"task_id\": \"a\", \"completion\": \"x\"}\n{\"task_id\": 3}\n".utf8).write(to: url)
        #expect { try CodeEvaluation.read(CodeSample.self, from: url) } throws: { "\($0)".contains("\(url.path):2:") }
    }

    /// HumanEval from the pinned wheel, when `rmas data humaneval` has written it
    /// (scripts/test.sh does, and sets RMAS_HUMANEVAL_DIR; with RMAS_REQUIRE_MODELS=1 it must be there).
    static var humanEval: URL? {
        ProcessInfo.processInfo.environment["RMAS_HUMANEVAL_DIR"].map { URL(fileURLWithPath: $0) }
    }

    @Test("HumanEval's 164 canonical solutions all pass through the sandboxed harness",
          .enabled(if: humanEval != nil || ProcessInfo.processInfo.environment["RMAS_REQUIRE_MODELS"] == "1"))
    func canonicalSolutions() throws {
        let directory = try #require(Self.humanEval, "RMAS_HUMANEVAL_DIR is not set (scripts/test.sh fetches HumanEval)")
        let problems = try CodeEvaluation.read(CodeProblem.self, from: directory.appendingPathComponent("HumanEval.jsonl"))
        let samples = try CodeEvaluation.read(CodeSample.self, from: directory.appendingPathComponent("HumanEval-canonical.jsonl"))
        #expect(problems.count == 164 && samples.count == 164)
        let results = try CodeEvaluation.evaluate(problems: problems, samples: samples, python: try PythonSandbox())
        #expect(results.filter(\.passed).count == 164, "\(results.filter { !$0.passed }.map { "\($0.taskID): \($0.result)" })")
        #expect(CodeEvaluation.passAtK(results, ks: [1])[1] == 1)
    }
}
