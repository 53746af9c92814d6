import Foundation

/// Role data as JSON Lines: one ``RoleExample`` object per line.
///
/// Reading is strict about rows and lenient about layout. Blank (whitespace-only) lines are
/// skipped but still counted, so error line numbers match an editor's. A row that is not a JSON
/// object, lacks a required field, has an empty required field, or has a field of the wrong type
/// stops the read with ``RoleDataError/malformedRow(file:line:problem:)``. Unknown keys are ignored.
///
/// Writing emits compact objects with keys in ``RoleExample/Field`` order and absent optional
/// fields left out, byte-identical to Python's
/// `json.dumps(row, ensure_ascii=False, separators=(",", ":"))` on the same ordered dict.
public enum RoleJSONL {
    /// Parses one row. `file` and `line` only label a thrown error.
    public static func decodeRow(
        _ text: String, file: String = "<string>", line: Int = 1
    ) throws(RoleDataError) -> RoleExample {
        try RowDecoder().decode(Array(text.utf8)[...], file: file, line: line)
    }

    /// One row as a single line of JSON, without the trailing newline.
    public static func encodeRow(_ example: RoleExample) -> String {
        var out = "{"
        var first = true
        for field in RoleExample.Field.allCases {
            guard let value = example[field] else { continue }
            if !first { out.append(",") }
            first = false
            JSONStringLiteral.append(field.key, to: &out)
            out.append(":")
            JSONStringLiteral.append(value, to: &out)
        }
        out.append("}")
        return out
    }

    /// Parses a whole JSONL text held in memory. `file` only labels errors.
    public static func parse(_ text: String, file: String = "<string>") throws(RoleDataError) -> [RoleExample] {
        let decoder = RowDecoder()
        var rows: [RoleExample] = []
        var number = 0
        for line in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            var bytes = ArraySlice(line)
            if bytes.last == 0x0D { bytes = bytes.dropLast() }
            if RowDecoder.isBlank(bytes) { continue }
            rows.append(try decoder.decode(bytes, file: file, line: number))
        }
        return rows
    }

    /// Reads every row of the file at `url`.
    public static func read(from url: URL) throws(RoleDataError) -> [RoleExample] {
        var rows: [RoleExample] = []
        let reader = try RoleJSONLReader(url: url)
        while let row = try reader.next() { rows.append(row) }
        return rows
    }

    /// Writes `rows` to `url` (replacing the file), one line each.
    public static func write(_ rows: some Sequence<RoleExample>, to url: URL) throws(RoleDataError) {
        let writer = try RoleJSONLWriter(url: url)
        for row in rows { try writer.write(row) }
        try writer.finish()
    }
}

/// Streams rows from a JSONL file one at a time, reading the file in chunks.
///
/// ```swift
/// let reader = try RoleJSONLReader(url: url)
/// while let row = try reader.next() { … }
/// ```
public final class RoleJSONLReader {
    /// The path used in error messages.
    public let path: String
    /// The 1-based number of the last line read (0 before the first call to ``next()``).
    public private(set) var lineNumber = 0
    private let lines: LineReader
    private let decoder = RowDecoder()

    /// Opens `url`; throws ``RoleDataError/unreadableFile(path:reason:)`` if it cannot be opened.
    public init(url: URL) throws(RoleDataError) {
        path = url.path
        lines = try LineReader(url: url)
    }

    /// The next row, or nil at the end of the file. Blank lines are skipped.
    public func next() throws(RoleDataError) -> RoleExample? {
        while let bytes = try lines.nextLine() {
            lineNumber += 1
            if RowDecoder.isBlank(bytes) { continue }
            return try decoder.decode(bytes, file: path, line: lineNumber)
        }
        return nil
    }
}

/// Writes rows to a JSONL file, buffering output; call ``finish()`` to flush and close.
public final class RoleJSONLWriter {
    /// The path used in error messages.
    public let path: String
    private let handle: FileHandle
    private var pending = Data()
    private var finished = false
    private let flushThreshold = 1 << 20

    /// Creates (or truncates) the file at `url`.
    public init(url: URL) throws(RoleDataError) {
        path = url.path
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw .unwritableFile(path: url.path, reason: "the file could not be created")
        }
        do {
            handle = try FileHandle(forWritingTo: url)
        } catch {
            throw .unwritableFile(path: url.path, reason: LineReader.reason(error))
        }
    }

    deinit { try? handle.close() }

    /// Appends one row as a line.
    public func write(_ example: RoleExample) throws(RoleDataError) {
        precondition(!finished, "RoleJSONLWriter.write after finish()")
        pending.append(contentsOf: (RoleJSONL.encodeRow(example) + "\n").utf8)
        if pending.count >= flushThreshold { try flush() }
    }

    /// Writes what is buffered and closes the file. Further writes are a programming error.
    public func finish() throws(RoleDataError) {
        guard !finished else { return }
        try flush()
        finished = true
        do {
            try handle.close()
        } catch {
            throw .unwritableFile(path: path, reason: LineReader.reason(error))
        }
    }

    private func flush() throws(RoleDataError) {
        guard !pending.isEmpty else { return }
        do {
            try handle.write(contentsOf: pending)
        } catch {
            throw .unwritableFile(path: path, reason: LineReader.reason(error))
        }
        pending.removeAll(keepingCapacity: true)
    }
}

/// Validates one line's JSON against the ``RoleExample`` schema.
struct RowDecoder {
    private let json = JSONDecoder()

    static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    func decode(_ bytes: ArraySlice<UInt8>, file: String, line: Int) throws(RoleDataError) -> RoleExample {
        func fail(_ problem: RowProblem) -> RoleDataError {
            .malformedRow(file: file, line: line, problem: problem)
        }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw fail(.invalidUTF8) }
        let value: JSONValue
        do {
            value = try json.decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw fail(.invalidJSON(detail: Self.detail(error)))
        }
        guard case .object(let object) = value else { throw fail(.notAnObject(found: value.typeName)) }

        var strings: [RoleExample.Field: String] = [:]
        for field in RoleExample.Field.allCases {
            switch object[field.key] {
            case nil, .null?:
                if field.isRequired { throw fail(.missingField(field.key)) }
            case .string(let s)?:
                if field.isRequired && s.allSatisfy(\.isWhitespace) { throw fail(.emptyField(field.key)) }
                strings[field] = s
            case let other?:
                throw fail(.wrongType(field: field.key, expected: "a string", found: other.typeName))
            }
        }
        // The required fields are present: the loop above threw otherwise.
        return RoleExample(
            question: strings[.question]!, plan: strings[.plan]!,
            refinedPlan: strings[.refinedPlan]!, answer: strings[.answer]!,
            finalAnswer: strings[.finalAnswer], type: strings[.type], fnName: strings[.fnName],
            source: strings[.source], generator: strings[.generator])
    }

    static func detail(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = context.underlyingError.map { " \(($0 as NSError).localizedDescription)" } ?? ""
            return context.debugDescription + underlying
        }
        return "\(error)"
    }
}
