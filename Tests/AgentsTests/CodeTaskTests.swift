import Foundation
@testable import Agents
import RoleData
import Sandbox
import Training
import Testing

/// Code tasks in `rmas compare`: HumanEval-format rows, the code instruction in every prompt, the
/// code found in a reply, and answers graded by running the tests in the sandbox.
@Suite("Code tasks in the comparison harness")
struct CodeTaskTests {
    static let problem = CodeEvaluationTests.problem  // add(a, b), two asserts

    @Test("the code of a reply: fenced block, bare function, bare body, none")
    func extraction() {
        let fenced = "Here it is:\n```python\ndef add(a, b):\n    return a + b\n```\nDone."
        #expect(CodeAnswer.extract(from: fenced) == "def add(a, b):\n    return a + b")
        #expect(CodeAnswer.extract(from: "```\nx = 1\n```\n```py\nimport math\n```") == "import math", "the block with code lines first")
        #expect(CodeAnswer.extract(from: "def add(a, b):\n    return a + b\n") == "def add(a, b):\n    return a + b")
        #expect(CodeAnswer.extract(from: "    return a + b") == "    return a + b", "indentation of a body is kept")
        #expect(CodeAnswer.extract(from: "The answer is 5.") == nil)
        #expect(CodeAnswer.extract(from: "```python\n") == nil, "an empty fence is no code")
        #expect(AnswerForm.code.matches("def add(a, b): return a + b", expected: "T/0") == false, "code is never right by its text")
    }

    @Test("a whole function replaces the prompt's unfinished one; a body continues it")
    func programs() throws {
        let python = try PythonSandbox()
        let whole = Self.problem.program(code: "def add(a, b):\n    return a + b")
        let body = Self.problem.program(code: "    return a + b\n")
        let wrong = Self.problem.program(code: "def add(a, b):\n    return a * b")
        #expect(try CodeEvaluation.judge(whole, python: python) == "passed")
        #expect(try CodeEvaluation.judge(body, python: python) == "passed")
        #expect(try CodeEvaluation.judge(wrong, python: python).hasPrefix("failed: AssertionError"))
    }

    @Test("HumanEval rows load with their tests; a row without a test is refused with file:line")
    func loader() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-he-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let good = #"{"task_id": "T/0", "prompt": "def add(a, b):\n", "canonical_solution": "    return a + b\n", "test": "def check(c):\n    assert c(2, 3) == 5\n", "entry_point": "add"}"#
        try Data((good + "\n").utf8).write(to: url)
        let rows = try TaskData.read(.humaneval, from: url)
        let questions = try Comparison.questions(rows, offset: 0, limit: nil)
        #expect(questions.count == 1 && questions[0].expected == "T/0" && questions[0].code?.entryPoint == "add")
        #expect(TaskData.Format.humaneval.answerForm(expected: ["T/0"]) == .code)
        try Data((good + "\n" + #"{"task_id": "T/1", "prompt": "def f():\n", "entry_point": "f"}"# + "\n").utf8).write(to: url)
        #expect { try TaskData.read(.humaneval, from: url) } throws: { "\($0)".contains(":2") && "\($0)".contains("test") }
    }

    @Test("code tasks ask with the code instruction, in every prompt of the graph")
    func instruction() throws {
        var graph = try TinyGraph.sequential()
        let code = graph.definition.instructions.code
        #expect(!graph.singleUserPrompt(question: "def add(a, b):\n").contains(code))
        graph.answerForm = .code
        #expect(graph.singleUserPrompt(question: "def add(a, b):\n").contains(code))
        #expect(graph.userPrompt(graph.answer, question: "def add(a, b):\n", round: 1).contains(code))
    }

    @Test("compare on code: every answer graded by running it, verdicts recorded, resumable")
    func compareGradesByRunning() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-code-compare-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let graph = try TinyGraph.sequential()
        let rows = [DataRow(question: Self.problem.prompt, fields: ["final_answer": "T/0", "task_id": "T/0", "prompt": Self.problem.prompt,
                                                                   "test": Self.problem.test, "entry_point": "add"])]
        let questions = try Comparison.questions(rows, offset: 0, limit: nil)
        let settings = Comparison.Settings(system: "tiny", data: "code", latentSteps: 2, maxTokens: 6, temperature: 0, seed: 0,
                                           answerRetry: true, prompts: nil, links: nil, answerForm: .code)
        let comparison = Comparison(plan: Comparison.plan(methods: [.latent, .text, .single], rounds: [1]), questions: questions,
                                    settings: settings, output: output, threads: 1, machine: "test", command: "test",
                                    python: try PythonSandbox(), codeTimeout: 2)
        _ = try comparison.run(recorded: try comparison.recorded(), makeRunner: { GraphRunner(graph: graph) })
        let outcomes = try JSONLines.read(QuestionOutcome.self, from: output.appendingPathComponent("outcomes.jsonl"), decoder: ProjectJSON.decoder())
        #expect(outcomes.count == 3)
        for outcome in outcomes {
            // A random tiny model writes no working function: each answer is graded, none passes.
            let verdict = outcome.verdict ?? "none"
            #expect(!outcome.correct && (verdict == "no code in the reply" || verdict.hasPrefix("failed") || verdict == "timed out"))
            #expect(outcome.stages.last?.generatedTokens ?? 0 <= 6, "no answer retry for code")
        }
        // The grading itself: a correct answer text passes through the same path.
        let graded = try comparison.judge(AnswerForm.code.extract(from: "```python\ndef add(a, b):\n    return a + b\n```"), questions[0])
        #expect(graded.correct && graded.verdict == "passed")
        #expect(try comparison.judge(nil, questions[0]).verdict == "no code in the reply")
        let again = try comparison.recorded()
        #expect(again.count == 3, "a continuation finds every graded answer")
    }
}
