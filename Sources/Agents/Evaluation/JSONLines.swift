// JSON Lines files (training logs, comparison outcomes): one compact JSON object per line,
// appended with one write each so a killed writer leaves at most a partial last line.
import Foundation

/// JSON Lines files kept next to results (training logs, comparison outcomes): one
/// compact JSON object per line, sorted keys.
///
/// Each line goes to the file in one `write(2)`, so a killed process leaves at most a partial
/// last line; reading ignores it and ``Appender`` cuts it off before appending.
public enum JSONLines {
    /// Every complete line of the file decoded as `T`; no file reads as no lines.
    public static func read<T: Decodable>(_ type: T.Type, from url: URL, decoder: JSONDecoder = JSONDecoder()) throws -> [T] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let data = try Data(contentsOf: url)
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        lines.removeLast()  // "" after the final newline, or a partial line
        var values: [T] = []
        for (number, line) in lines.enumerated() where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
            do {
                values.append(try decoder.decode(T.self, from: Data(line)))
            } catch {
                throw AgentError.invalidArgument("\(url.path):\(number + 1): not a valid record: \(error)")
            }
        }
        return values
    }

    /// Replaces the file (atomically) with `values`, one per line.
    public static func write<T: Encodable>(_ values: [T], to url: URL, encoder: JSONEncoder? = nil) throws {
        var data = Data()
        for value in values { data.append(try line(value, encoder: encoder)) }
        try data.write(to: url, options: .atomic)
    }

    /// `value` as one line of JSON, with its newline.
    /// `value` as one line of JSON (sorted keys, or `encoder`'s settings), with its newline.
    public static func line(_ value: some Encodable, encoder: JSONEncoder? = nil) throws -> Data {
        let encoder = encoder ?? {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return e
        }()
        return try encoder.encode(value) + Data("\n".utf8)
    }

    /// Appends lines to a file, creating it if needed; a partial last line left by a killed
    /// writer is removed first.
    public final class Appender {
        public let url: URL
        private let handle: FileHandle
        private let encoder: JSONEncoder?

        public init(url: URL, encoder: JSONEncoder? = nil) throws {
            self.url = url
            self.encoder = encoder
            if !FileManager.default.fileExists(atPath: url.path) {
                guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                    throw AgentError.invalidArgument("cannot create \(url.path)")
                }
            }
            handle = try FileHandle(forUpdating: url)
            let size = try handle.seekToEnd()
            if size > 0 {
                try handle.seek(toOffset: size - 1)
                if try handle.read(upToCount: 1) != Data([0x0A]) {
                    try handle.seek(toOffset: 0)
                    let data = try handle.readToEnd() ?? Data()
                    let keep = data.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
                    try handle.truncate(atOffset: UInt64(keep))
                }
                try handle.seekToEnd()
            }
        }

        deinit { try? handle.close() }

        /// Writes `value` as one line; it is in the file (the kernel's) when this returns.
        public func append(_ value: some Encodable) throws {
            try handle.write(contentsOf: try JSONLines.line(value, encoder: encoder))
        }
    }
}
