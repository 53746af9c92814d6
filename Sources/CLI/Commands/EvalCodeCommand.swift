// `rmas eval-code`: functional correctness of a human-eval-format samples file, each program run
// in the sandbox; per-sample verdicts and the unbiased pass@k.
import Agents
import ArgumentParser
import Foundation
import Sandbox

struct EvalCodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-code",
        abstract: "Run a human-eval samples file (task_id, completion) against its problems' tests in the sandbox; print pass@k.",
        discussion: """
            --problems is HumanEval-format JSONL (task_id, prompt, test, entry_point; `rmas data humaneval` writes HumanEval.jsonl \
            and the canonical solutions as HumanEval-canonical.jsonl). Each program is prompt + completion + test + \
            check(entry_point), run as its own uid with no network, rlimits and a --timeout wall clock. Writes \
            <samples>_results.jsonl beside the samples (as the reference harness does) unless --out is given.
            """)

    @Option(help: "Problems (HumanEval-format JSONL).") var problems: String
    @Option(help: "Samples (JSONL: task_id, completion).") var samples: String
    @Option(help: "k values of pass@k, comma-separated (those with enough samples per problem are reported).", in: 1...1_000_000)
    var k = CommaSeparated([1, 10, 100])
    @Option(help: "Wall-clock seconds per program.", in: 0.01...600) var timeout = 3.0
    @Option(help: "Per-sample results file (JSONL).") var out: String?
    @Flag(help: "Print the summary as one JSON object.") var json = false

    func run() throws {
        let problemList = try CodeEvaluation.read(CodeProblem.self, from: URL(fileURLWithPath: problems))
        let sampleList = try CodeEvaluation.read(CodeSample.self, from: URL(fileURLWithPath: samples))
        guard !sampleList.isEmpty else { throw ValidationError("\(samples) holds no samples") }
        let python = try PythonSandbox()
        let bar = ProgressLine(total: sampleList.count)
        var passed = 0
        let results = try CodeEvaluation.evaluate(problems: problemList, samples: sampleList, python: python, timeout: timeout) { i, r in
            if r.passed { passed += 1 }
            bar.update(step: i + 1, text: "\(r.taskID) \(r.passed ? "✓" : "✗ \(r.result.prefix(60))") | \(passed)/\(i + 1) passed")
        }
        bar.finish()
        let output = out ?? samples + "_results.jsonl"
        try JSONLines.write(results, to: URL(fileURLWithPath: output))
        let scores = CodeEvaluation.passAtK(results, ks: k.values)
        if json {
            let object: [String: Any] = ["samples": results.count, "passed": passed, "problems": Set(results.map(\.taskID)).count,
                                         "pass_at_k": Dictionary(uniqueKeysWithValues: scores.map { ("pass@\($0.key)", $0.value) }),
                                         "results": output]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("\(passed)/\(results.count) samples passed on \(Set(results.map(\.taskID)).count) problems")
            for key in scores.keys.sorted() { print(String(format: "pass@%d %.4f", key, scores[key]!)) }
            Console.error("wrote \(output)")
        }
    }
}
