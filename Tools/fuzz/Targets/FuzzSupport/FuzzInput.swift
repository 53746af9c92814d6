// Shared by the libFuzzer targets in Tools/fuzz/Targets: reading structured values out of the
// fuzzer's byte string, a scratch file for parsers that only read from disk, and the invariant
// check whose failure is a finding. Written for this project.
import CFuzzDriver
import Foundation

/// Consumes the fuzzer's input from the front. Reads past the end yield zeros / empty values, so
/// every byte string is a valid input.
public struct FuzzInput {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    public init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    public var isAtEnd: Bool { position >= bytes.count }

    /// The next byte, or 0 at the end.
    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A little-endian Int32 from the next four bytes (missing bytes read as 0).
    public mutating func int32() -> Int32 {
        var value: UInt32 = 0
        for shift in stride(from: 0, to: 32, by: 8) { value |= UInt32(byte()) << UInt32(shift) }
        return Int32(bitPattern: value)
    }

    /// The bytes up to (not including) the next `separator`, which is consumed; the rest when
    /// there is none.
    public mutating func bytes(upTo separator: UInt8) -> [UInt8] {
        let end = bytes[position...].firstIndex(of: separator) ?? bytes.count
        defer { position = min(end + 1, bytes.count) }
        return Array(bytes[position..<end])
    }

    /// ``bytes(upTo:)`` as text (invalid UTF-8 repaired with U+FFFD).
    public mutating func text(upTo separator: UInt8) -> String {
        String(decoding: bytes(upTo: separator), as: UTF8.self)
    }

    /// Everything not consumed yet.
    public mutating func rest() -> [UInt8] {
        defer { position = bytes.count }
        return Array(bytes[min(position, bytes.count)...])
    }
}

/// Runs libFuzzer (its command line is the program's) on `testOneInput`; call it from `@main`.
public func runLibFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(rmas_run_libfuzzer(&argc, &argv, testOneInput))
}

/// Runs `body` on libFuzzer's input; the return value is what `LLVMFuzzerTestOneInput` returns.
public func fuzzEntry(_ data: UnsafePointer<UInt8>?, _ size: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> CInt {
    body(UnsafeBufferPointer(start: size > 0 ? data : nil, count: size))
    return 0
}

/// An invariant of the code under test: a violation is a finding, so it stops the run.
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError("fuzz invariant violated: \(message())", file: file, line: line) }
}

/// A file in a per-process scratch directory (under /dev/shm when it exists, else the temporary
/// directory), rewritten for each input; for parsers that take a URL.
public struct ScratchDirectory: Sendable {
    public let url: URL

    /// The process's scratch directory (created on first use; the pid keeps libFuzzer's
    /// -fork/-jobs workers apart).
    public static let shared: ScratchDirectory = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm")
            ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        let url = base.appendingPathComponent(directoryName)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        // libFuzzer ends a bounded run with exit(); a crash leaves the directory behind.
        atexit { try? FileManager.default.removeItem(at: ScratchDirectory.shared.url) }
        return ScratchDirectory(url: url)
    }()

    private static var directoryName: String { "rmas-fuzz-\(ProcessInfo.processInfo.processIdentifier)" }

    /// Replaces the file `name` with `bytes` and returns its URL. A failed write stops the run:
    /// the target would otherwise test nothing.
    public func write(_ bytes: [UInt8], to name: String) -> URL {
        let file = url.appendingPathComponent(name)
        do { try Data(bytes).write(to: file) } catch { fatalError("cannot write the scratch file \(file.path): \(error)") }
        return file
    }

    /// Removes the file `name` if present.
    public func remove(_ name: String) {
        try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
    }
}
