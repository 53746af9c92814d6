// libFuzzer entry point for the task and data files: JSONL data rows (DataRow.read, through
// RoleData's chunked LineReader), benchmark task files (TaskData.read: MMLU, GPQA, MedQA,
// MATH-500), role rows (RoleJSONL read from a file and parsed from text), JSON Lines records
// (JSONLines.read of comparison outcomes), HumanEval problems and samples (CodeEvaluation.read)
// and search-tool document collections; the answer forms grade the text as a model reply. The
// input is written to a scratch file once and handed to every reader. A crash or sanitizer report is a finding; so is a file
// read differently from disk and from memory (fuzzCheck), the LineReader included at tiny chunk
// sizes (hence @testable: run-fuzzers.sh builds with -enable-testing). Written for this project.
import Agents
import Foundation
import FuzzSupport
@testable import RoleData
import Sandbox
import Training

@main
enum Entry {
    static func main() { runLibFuzzer(fuzzDataFile) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDataFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzEntry(data, size) { bytes in
        let contents = Array(bytes)
        let url = ScratchDirectory.shared.write(contents, to: "data.jsonl")
        checkLineReader(contents, url: url)

        // Rows as `rmas compare` reads them, then the answer form their expected answers choose.
        // One format per input (by length, which mutations change often) keeps the target fast.
        let format = TaskData.Format.allCases[contents.count % TaskData.Format.allCases.count]
        if let rows = try? TaskData.read(format, from: url, subjects: format == .mmlu ? ["anatomy"] : nil) {
            _ = format.answerForm(expected: rows.compactMap(\.finalAnswer))
            for row in rows { _ = (row["question"], row["plan"]) }
        }
        let reply = String(decoding: contents, as: UTF8.self)
        for form in AnswerForm.allCases {
            let predicted = form.extract(from: reply)
            _ = form.matches(predicted, expected: predicted ?? reply)
        }

        // The same rows from the file (streamed) and from the text in memory, when it is UTF-8
        // (the in-memory reader takes a String) and has no byte-order mark (which only the file
        // reader skips).
        let fromFile = Result { () throws(RoleDataError) in try RoleJSONL.read(from: url) }
        if let text = String(validating: contents, as: UTF8.self), !contents.starts(with: [0xEF, 0xBB, 0xBF]) {
            let fromText = Result { () throws(RoleDataError) in try RoleJSONL.parse(text, file: url.path) }
            switch (fromFile, fromText) {
            case (.success(let a), .success(let b)):
                fuzzCheck(a == b, "RoleJSONL read \(a.count) rows from the file, \(b.count) from memory")
                for row in a {
                    let again = try? RoleJSONL.decodeRow(RoleJSONL.encodeRow(row))
                    fuzzCheck(again == row, "a role row changed on being written and read back")
                }
            case (.failure(let a), .failure(let b)):
                fuzzCheck(summary(a) == summary(b), "the file and memory readers disagree: \(a) / \(b)")
            default:
                fuzzCheck(false, "only one of the file and memory readers failed: \(fromFile) / \(fromText)")
            }
        }

        _ = try? JSONLines.read(QuestionOutcome.self, from: url, decoder: ProjectJSON.decoder())
        if let problems = try? CodeEvaluation.read(CodeProblem.self, from: url) {
            for problem in problems { _ = problem.program(completion: "    return 0\n") }
        }
        _ = try? CodeEvaluation.read(CodeSample.self, from: url)
        _ = try? DocumentCollection.parse(jsonl: Data(contents), source: "fuzz.jsonl")
    }
}

/// LineReader reading the file in 1…16 chunks (so lines and the byte-order mark cross chunk
/// boundaries, and a small file is read a byte at a time) must give the
/// lines of the whole file split in memory: at "\n", one trailing "\r" and a leading byte-order
/// mark removed, no line after a final newline.
private func checkLineReader(_ contents: [UInt8], url: URL) {
    var expected = contents.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    if expected.last?.isEmpty == true { expected.removeLast() }
    if expected.first?.starts(with: [0xEF, 0xBB, 0xBF]) == true { expected[0].removeFirst(3) }
    expected = expected.map { $0.last == 0x0D ? Array($0.dropLast()) : $0 }
    var lines: [[UInt8]] = []
    do {
        let chunks = Int(contents.last ?? 0) % 16 + 1
        let reader = try LineReader(url: url, chunkSize: max(1, contents.count / chunks))
        while let line = try reader.nextLine() { lines.append(Array(line)) }
    } catch {
        fuzzCheck(false, "LineReader failed on a readable file: \(error)")
    }
    fuzzCheck(lines == expected, "LineReader gave \(lines.count) lines, expected \(expected.count)")
}

/// An error's place and kind of problem, without a JSON parser's detail (which may name any of
/// several bad keys, in dictionary order).
private func summary(_ error: RoleDataError) -> String {
    guard case .malformedRow(let file, let line, let problem) = error else { return "\(error)" }
    if case .invalidJSON = problem { return "\(file):\(line): invalid JSON" }
    return "\(file):\(line): \(problem)"
}
