import Foundation

/// Reads a file line by line in fixed-size chunks, so a large JSONL file is never held whole.
///
/// Lines end at `\n`; a trailing `\r` is removed, and a UTF-8 byte-order mark at the start of the
/// file is skipped. The last line need not end with a newline.
final class LineReader {
    private let handle: FileHandle
    private let path: String
    private let chunkSize: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var isFirstLine = true

    init(url: URL, chunkSize: Int = 1 << 16) throws(RoleDataError) {
        path = url.path
        self.chunkSize = chunkSize
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw .unreadableFile(path: url.path, reason: Self.reason(error))
        }
    }

    deinit { try? handle.close() }

    /// The next line's bytes without its terminator, or nil at the end of the file.
    func nextLine() throws(RoleDataError) -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = buffer[start..<newline]
                start = newline + 1
                return trim(line)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                return trim(line)
            }
            try refill()
        }
    }

    private func refill() throws(RoleDataError) {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        let chunk: Data?
        do {
            chunk = try handle.read(upToCount: chunkSize)
        } catch {
            throw .unreadableFile(path: path, reason: Self.reason(error))
        }
        if let chunk, !chunk.isEmpty {
            buffer.append(contentsOf: chunk)
        } else {
            atEnd = true
        }
    }

    private func trim(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var line = line
        if isFirstLine {
            isFirstLine = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
        }
        if line.last == 0x0D { line = line.dropLast() }
        return line
    }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedDescription
    }
}
