// A training or evaluation row for any agent graph: the question and named texts (each node's
// teacher-forcing target is one field). Read from JSONL with the same strictness as role rows.
import Foundation

/// One data row: `question` plus string fields keyed as in the file (`plan`, `refined_plan`,
/// `answer`, `math_expert`, …). Non-string values are kept out; `question` is required.
public struct DataRow: Sendable, Hashable {
    public var question: String
    public var fields: [String: String]

    public init(question: String, fields: [String: String]) {
        self.question = question
        self.fields = fields
    }

    /// The sequential row's texts as fields.
    public init(_ example: RoleExample) {
        question = example.question
        var fields: [String: String] = [:]
        for field in RoleExample.Field.allCases where field != .question {
            if let value = example[field] { fields[field.key] = value }
        }
        self.fields = fields
    }

    /// The field `name` ("question" is the question), nil when absent.
    public subscript(name: String) -> String? { name == "question" ? question : fields[name] }

    /// The grading answer (`final_answer`), when the row has one.
    public var finalAnswer: String? { fields["final_answer"] }

    /// Reads every row of a JSONL file: blank lines skipped (still counted), every other line a
    /// JSON object with a non-empty string `question`; errors name the file and line.
    public static func read(from url: URL) throws(RoleDataError) -> [DataRow] {
        let lines = try LineReader(url: url)
        var rows: [DataRow] = [], number = 0
        while let line = try lines.nextLine() {
            number += 1
            if RowDecoder.isBlank(line) { continue }
            rows.append(try decode(line, file: url.path, line: number))
        }
        return rows
    }

    /// Parses one line. `file` and `line` label errors.
    public static func decode(_ bytes: ArraySlice<UInt8>, file: String, line: Int) throws(RoleDataError) -> DataRow {
        func fail(_ problem: RowProblem) -> RoleDataError { .malformedRow(file: file, line: line, problem: problem) }
        let object = try jsonObject(bytes, file: file, line: line)
        guard let question = object["question"] else { throw fail(.missingField("question")) }
        guard case .string(let text) = question else {
            throw fail(.wrongType(field: "question", expected: "a string", found: question.typeName))
        }
        guard !text.allSatisfy(\.isWhitespace) else { throw fail(.emptyField("question")) }
        var fields: [String: String] = [:]
        for (key, value) in object where key != "question" {
            if case .string(let s) = value { fields[key] = s }
        }
        return DataRow(question: text, fields: fields)
    }

    /// One line as a JSON object (UTF-8 and JSON checked); `file` and `line` label errors.
    static func jsonObject(_ bytes: ArraySlice<UInt8>, file: String, line: Int) throws(RoleDataError) -> [String: JSONValue] {
        func fail(_ problem: RowProblem) -> RoleDataError { .malformedRow(file: file, line: line, problem: problem) }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw fail(.invalidUTF8) }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) } catch {
            throw fail(.invalidJSON(detail: RowDecoder.detail(error)))
        }
        guard case .object(let object) = value else { throw fail(.notAnObject(found: value.typeName)) }
        return object
    }

    /// The row as one compact JSON line (`question` and every field, keys sorted).
    public var jsonLine: String {
        let all = fields.merging(["question": question]) { _, q in q }
        var out = "{"
        for (i, key) in all.keys.sorted().enumerated() {
            if i > 0 { out += ", " }
            JSONStringLiteral.append(key, to: &out)
            out += ": "
            JSONStringLiteral.append(all[key]!, to: &out)
        }
        return out + "}"
    }
}
