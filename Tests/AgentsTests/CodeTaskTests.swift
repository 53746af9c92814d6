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

extension CodeTaskTests {
    /// MBPP rows (original fields) and MBPP+ rows (a test script over extra inputs, test imports):
    /// the question lists the asserts, the entry point comes from them, and the canonical code
    /// passes while a wrong one fails through the sandbox; a row without asserts is refused.
    @Test("MBPP and MBPP+ rows load, ask with their asserts and grade by running them")
    func mbpp() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-mbpp-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let original = #"{"task_id": 2, "text": "Write a function to find the shared elements of two tuples.", "code": "def similar_elements(a, b):\n    return tuple(set(a) & set(b))", "test_list": ["assert set(similar_elements((3, 4, 5, 6), (5, 7, 4, 10))) == set((4, 5))", "assert set(similar_elements((1, 2), (2, 3))) == set((2,))"], "test_setup_code": "", "challenge_test_list": []}"#
        let plus = #"{"task_id": 3, "prompt": "Write a python function to identify non-prime numbers.", "code": "import math\ndef is_not_prime(n):\n    return n < 2 or any(n % i == 0 for i in range(2, int(math.isqrt(n)) + 1))", "test_imports": ["import math"], "test_list": ["assert is_not_prime(2) == False"], "test": "inputs = [[2], [10], [35], [37]]\nresults = [False, True, True, False]\nfor inp, exp in zip(inputs, results):\n    assert is_not_prime(*inp) == exp\n"}"#
        try Data((original + "\n" + plus + "\n").utf8).write(to: url)
        let rows = try TaskData.read(.mbpp, from: url)
        let questions = try Comparison.questions(rows, offset: 0, limit: nil)
        #expect(questions.map(\.expected) == ["2", "3"])
        #expect(questions.map { $0.code?.entryPoint } == ["similar_elements", "is_not_prime"])
        #expect(questions[0].text.contains("Your code should pass these tests:") && questions[0].text.contains("assert set(similar_elements("))
        #expect(TaskData.Format.mbpp.answerForm(expected: ["2"]) == .code)
        let python = try PythonSandbox()
        let solutions = ["def similar_elements(a, b):\n    return tuple(set(a) & set(b))",
                         "def is_not_prime(n):\n    return n < 2 or any(n % i == 0 for i in range(2, int(math.isqrt(n)) + 1))"]
        for (question, code) in zip(questions, solutions) {
            #expect(try CodeEvaluation.judge(question.code!.program(code: code), python: python) == "passed", "\(question.expected)")
        }
        // The MBPP+ script tests inputs the listed assert does not: 37 is prime.
        let wrong = "def is_not_prime(n):\n    return n != 2"
        #expect(try CodeEvaluation.judge(questions[1].code!.program(code: wrong), python: python).hasPrefix("failed: AssertionError"))
        try Data((original + "\n" + #"{"task_id": 4, "text": "Add.", "test_list": []}"# + "\n").utf8).write(to: url)
        #expect { try TaskData.read(.mbpp, from: url) } throws: { "\($0)".contains(":2") && "\($0)".contains("test_list") }
        #expect(TaskData.calledFunction("assert math.isclose(area_tetrahedron(3), 15.58, rel_tol=0.001)") == "area_tetrahedron")
    }
}

extension CodeTaskTests {
    /// LiveCodeBench-style rows: a stdin problem (tests as JSON text, a compressed private field
    /// left out) and a functional one (a Solution method, arguments as JSON lines); right answers
    /// pass, wrong ones fail naming the test; a row without tests or without func_name is refused.
    @Test("LiveCodeBench-style rows grade stdin programs and Solution methods by their tests")
    func liveCodeBench() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-lcb-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let stdin = #"{"question_id": "abc300_a", "question_content": "Read two integers A and B and print A+B.", "starter_code": "", "public_test_cases": "[{\"input\": \"1 2\\n\", \"output\": \"3\\n\", \"testtype\": \"stdin\"}, {\"input\": \"10 -4\\n\", \"output\": \"6\\n\", \"testtype\": \"stdin\"}]", "private_test_cases": "eJzLSM3JyVcozy/KSQEAGgQEXQ==", "metadata": "{}"}"#
        let functional = #"{"question_id": "two-sum", "question_content": "Return the indices of the two numbers that add up to target.", "starter_code": "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        ", "public_test_cases": [{"input": "[2,7,11,15]\n9", "output": "[0, 1]", "testtype": "functional"}, {"input": "[3,2,4]\n6", "output": "[1, 2]", "testtype": "functional"}], "metadata": "{\"func_name\": \"twoSum\"}"}"#
        try Data((stdin + "\n" + functional + "\n").utf8).write(to: url)
        let rows = try TaskData.read(.livecodebench, from: url)
        let questions = try Comparison.questions(rows, offset: 0, limit: nil)
        #expect(questions.map(\.expected) == ["abc300_a", "two-sum"])
        #expect(questions[0].text.contains("standard input") && questions[1].text.contains("def twoSum"))
        #expect(questions[0].code?.ioTests?.count == 2 && questions[1].code?.entryPoint == "twoSum")
        let python = try PythonSandbox()
        func judge(_ i: Int, _ code: String) throws -> String { try CodeEvaluation.judge(questions[i].code!.program(code: code), python: python) }
        #expect(try judge(0, "a, b = map(int, input().split())\nprint(a + b)") == "passed")
        #expect(try judge(0, "import sys\ndef main():\n    a, b = map(int, sys.stdin.read().split())\n    print(a + b)\nif __name__ == '__main__':\n    main()") == "passed")
        #expect(try judge(0, "a, b = map(int, input().split())\nprint(a * b + 1)").contains("test 1"))
        let twoSum = "class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n        for i, n in enumerate(nums):\n            if target - n in seen:\n                return [seen[target - n], i]\n            seen[n] = i\n"
        #expect(try judge(1, twoSum) == "passed")
        #expect(try judge(1, "class Solution:\n    def twoSum(self, nums, target):\n        return [0, 1]\n").hasPrefix("failed: AssertionError: test 1"))
        try Data((stdin + "\n" + #"{"question_id": "x", "question_content": "Add.", "public_test_cases": "[]"}"# + "\n").utf8).write(to: url)
        #expect { try TaskData.read(.livecodebench, from: url) } throws: { "\($0)".contains(":2") && "\($0)".contains("public_test_cases") }
        try Data((#"{"question_id": "y", "question_content": "F.", "public_test_cases": [{"input": "1", "output": "1", "testtype": "functional"}]}"# + "\n").utf8).write(to: url)
        #expect { try TaskData.read(.livecodebench, from: url) } throws: { "\($0)".contains("func_name") }
    }
}
