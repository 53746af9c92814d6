// Provenance: field names of LiveCodeBench's code-generation JSONL (question_id, question_title,
// question_content, starter_code, public_test_cases and private_test_cases as JSON text of
// [{input, output, testtype: "stdin" | "functional"}], metadata as JSON text with func_name).
// Private tests published compressed (not JSON) are left out; the public ones then grade.
import Foundation

/// One input/output test of a program: stdin → stdout, or (functional) one JSON argument per
/// input line → the JSON return value of the named function (a `Solution` method where defined).
public struct IOTest: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case stdin, functional }
    public var input: String
    public var output: String
    public var testtype: Kind

    public init(input: String, output: String, testtype: Kind) {
        self.input = input
        self.output = output
        self.testtype = testtype
    }

    /// `tests` as compact JSON text, keys sorted: what rows carry in `io_tests` and graders embed.
    public static func jsonText(_ tests: [IOTest]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(tests)) ?? Data("[]".utf8), as: UTF8.self)
    }
}

extension TaskData {
    /// One LiveCodeBench-style row: the statement (with its starter code, or the stdin/stdout
    /// instruction) as the question; the tests as JSON text in the `io_tests` field and the
    /// function name in `entry_point` (empty for stdin problems).
    static func liveCodeBenchRow(_ object: [String: JSONValue], file: String, line: Int) throws(RoleDataError) -> DataRow {
        func problem(_ p: RowProblem) -> RoleDataError { .malformedRow(file: file, line: line, problem: p) }
        func string(_ key: String) -> String? { if case .string(let s)? = object[key] { s } else { nil } }
        /// Tests given as an array or as JSON text of one; nil for text that is not JSON (compressed).
        func tests(_ key: String) throws(RoleDataError) -> [IOTest]? {
            var value = object[key]
            if case .string(let text)? = value {
                guard let data = text.data(using: .utf8), let parsed = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
                value = parsed
            }
            guard let value else { return nil }
            let shape = problem(.wrongType(field: key, expected: "[{input, output, testtype: stdin|functional}]", found: value.typeName))
            guard case .array(let items) = value else { throw shape }
            return try items.map { item throws(RoleDataError) -> IOTest in
                guard case .object(let t) = item, case .string(let input)? = t["input"], case .string(let output)? = t["output"],
                      case .string(let type)? = t["testtype"], let kind = IOTest.Kind(rawValue: type) else { throw shape }
                return IOTest(input: input, output: output, testtype: kind)
            }
        }
        guard let statement = string("question_content"), !statement.allSatisfy(\.isWhitespace) else { throw problem(.missingField("question_content")) }
        let all = (try tests("public_test_cases") ?? []) + (try tests("private_test_cases") ?? [])
        guard !all.isEmpty else { throw problem(.missingField("public_test_cases")) }
        var function = ""
        if all.contains(where: { $0.testtype == .functional }) {
            var metadata = object["metadata"]
            if case .string(let text)? = metadata, let data = text.data(using: .utf8) { metadata = try? JSONDecoder().decode(JSONValue.self, from: data) }
            guard case .object(let fields)? = metadata, case .string(let name)? = fields["func_name"], !name.isEmpty else {
                throw problem(.missingField("metadata.func_name"))
            }
            function = name
        }
        let id = string("question_id") ?? string("question_title") ?? "row \(line)"
        let starter = string("starter_code") ?? ""
        let question = statement.trimmingCharacters(in: .whitespacesAndNewlines) + "\n\n"
            + (starter.allSatisfy(\.isWhitespace)
                ? "Read the input from standard input and write the answer to standard output."
                : "Complete this starter code:\n```python\n\(starter)\n```")
        return DataRow(question: question, fields: ["final_answer": id, "task_id": id, "prompt": "", "io_tests": IOTest.jsonText(all),
                                                    "entry_point": function])
    }
}
