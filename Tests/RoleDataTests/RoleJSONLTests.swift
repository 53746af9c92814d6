import Foundation
import Testing

@testable import RoleData

/// A scratch directory removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("RoleDataTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String, contents: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(contents.utf8).write(to: file)
        return file
    }
}

private let valid = #"{"question":"q","plan":"p","refined_plan":"r","answer":"a"}"#

@Suite("RoleJSONL")
struct RoleJSONLTests {
    @Test("a row with every field encodes in schema order and decodes back")
    func fullRowRoundTrip() throws {
        let row = RoleExample(
            question: "How many?\n\"Quoted\" \\ back\tslash é 😀 \u{1}", plan: "Step 1: count",
            refinedPlan: "Step 1: count all",
            answer: "\\boxed{3}", finalAnswer: "3", type: "function", fnName: "solve", source: "test",
            generator: "test/1")
        let line = RoleJSONL.encodeRow(row)
        #expect(
            line == #"{"question":"How many?\n\"Quoted\" \\ back\tslash é 😀 \u0001","plan":"Step 1: count","#
                + #""refined_plan":"Step 1: count all","answer":"\\boxed{3}","final_answer":"3","type":"function","#
                + #""fn_name":"solve","source":"test","generator":"test/1"}"#)
        #expect(try RoleJSONL.decodeRow(line) == row)
    }

    @Test("absent optional fields are left out; null reads as absent; unknown keys are ignored")
    func optionalFields() throws {
        let row = RoleExample(question: "q", plan: "p", refinedPlan: "r", answer: "a")
        #expect(RoleJSONL.encodeRow(row) == valid)
        let loose = #"{"answer_field":"x","question":"q","plan":"p","refined_plan":"r","answer":"a","type":null}"#
        #expect(try RoleJSONL.decodeRow(loose) == row)
    }

    @Test("files round-trip through the writer and the streaming reader, byte for byte")
    func fileRoundTrip() throws {
        let dir = try TemporaryDirectory()
        let rows = SyntheticArithmetic(seed: 11).generate(count: 200)
        let url = dir.url.appendingPathComponent("rows.jsonl")
        try RoleJSONL.write(rows, to: url)
        #expect(try RoleJSONL.read(from: url) == rows)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text == rows.map { RoleJSONL.encodeRow($0) + "\n" }.joined())
        #expect(try RoleJSONL.parse(text, file: "rows.jsonl") == rows)
    }

    @Test("lines that straddle read chunks are joined correctly", arguments: [1, 3, 7, 64])
    func smallChunks(chunkSize: Int) throws {
        let dir = try TemporaryDirectory()
        let rows = SyntheticArithmetic(seed: 5).generate(count: 5)
        let text = "\u{FEFF}" + rows.map { RoleJSONL.encodeRow($0) }.joined(separator: "\r\n\n")  // no final newline
        let url = try dir.file("chunks.jsonl", contents: text)
        let lines = try LineReader(url: url, chunkSize: chunkSize)
        var read: [RoleExample] = []
        while let line = try lines.nextLine() {
            if !RowDecoder.isBlank(line) { read.append(try RowDecoder().decode(line, file: "x", line: 0)) }
        }
        #expect(read == rows)
    }

    @Test("blank lines are skipped but counted; the reader reports the line it is on")
    func blankLines() throws {
        let dir = try TemporaryDirectory()
        let url = try dir.file("blank.jsonl", contents: "\n   \n\(valid)\r\n\t\n\(valid)\n\n")
        let reader = try RoleJSONLReader(url: url)
        #expect(try reader.next() != nil && reader.lineNumber == 3)
        #expect(try reader.next() != nil && reader.lineNumber == 5)
        #expect(try reader.next() == nil)
        #expect(try RoleJSONL.parse("\n\(valid)\n \n").count == 1)
    }

    /// Each malformed row, as line 3 of a file whose lines 1–2 are fine.
    static let malformed: [(String, RowProblem?)] = [
        (#"{"question":"q","plan":"p","refined_plan":"r","answer":"a""#, nil),  // invalid JSON
        (#"not json"#, nil),
        (#"["question"]"#, .notAnObject(found: "an array")),
        (#""just a string""#, .notAnObject(found: "a string")),
        (#"{"question":"q","refined_plan":"r","answer":"a"}"#, .missingField("plan")),
        (#"{"question":"q","plan":null,"refined_plan":"r","answer":"a"}"#, .missingField("plan")),
        (#"{"question":"q","plan":"p","refined_plan":" \n ","answer":"a"}"#, .emptyField("refined_plan")),
        (#"{"question":"","plan":"p","refined_plan":"r","answer":"a"}"#, .emptyField("question")),
        (
            #"{"question":"q","plan":"p","refined_plan":"r","answer":42}"#,
            .wrongType(field: "answer", expected: "a string", found: "a number")
        ),
        (
            #"{"question":"q","plan":["p"],"refined_plan":"r","answer":"a"}"#,
            .wrongType(field: "plan", expected: "a string", found: "an array")
        ),
        (
            #"{"question":"q","plan":"p","refined_plan":"r","answer":"a","fn_name":true}"#,
            .wrongType(field: "fn_name", expected: "a string", found: "a boolean")
        ),
        (
            #"{"question":"q","plan":"p","refined_plan":"r","answer":"a","type":{"k":1}}"#,
            .wrongType(field: "type", expected: "a string", found: "an object")
        ),
    ]

    @Test("a malformed row names the file, its 1-based line and the problem", arguments: malformed)
    func malformedRow(line: String, expected: RowProblem?) throws {
        let dir = try TemporaryDirectory()
        let url = try dir.file("bad.jsonl", contents: "\(valid)\n\n\(line)\n\(valid)\n")
        #expect {
            _ = try RoleJSONL.read(from: url)
        } throws: { error in
            guard case .malformedRow(let file, 3, let problem) = error as? RoleDataError, file == url.path
            else { return false }
            if let expected { return problem == expected }
            if case .invalidJSON = problem { return true }
            return false
        }
        // The in-memory parser agrees on the line.
        #expect {
            _ = try RoleJSONL.parse("\(valid)\n\n\(line)\n", file: "mem")
        } throws: { error in
            if case .malformedRow("mem", 3, _) = error as? RoleDataError { return true }
            return false
        }
    }

    @Test("invalid UTF-8 is reported as such, with its line")
    func invalidUTF8() throws {
        let dir = try TemporaryDirectory()
        let url = dir.url.appendingPathComponent("bytes.jsonl")
        var bytes = Data((valid + "\n").utf8)
        bytes.append(contentsOf: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D, 0x0A])
        try bytes.write(to: url)
        #expect(throws: RoleDataError.malformedRow(file: url.path, line: 2, problem: .invalidUTF8)) {
            _ = try RoleJSONL.read(from: url)
        }
    }

    @Test("the error text carries file, line and problem")
    func errorDescription() {
        let error = RoleDataError.malformedRow(file: "data/train.jsonl", line: 17, problem: .missingField("plan"))
        #expect(error.description == "data/train.jsonl:17: required field 'plan' is missing")
    }

    @Test("a missing file is a typed error naming it")
    func missingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/rows.jsonl")
        #expect {
            _ = try RoleJSONL.read(from: url)
        } throws: { error in
            if case .unreadableFile(let path, _) = error as? RoleDataError { return path == url.path }
            return false
        }
    }
}
