// Helpers for the sandbox tests: a fresh base directory per test (checked empty afterwards), the
// processes of a uid, and a TCP listener on 127.0.0.1 for the network tests.
import Foundation
import Sandbox
import Testing

let isRoot = geteuid() == 0

/// A base directory of its own for one test, so that "nothing left behind" can be checked.
struct TestBase {
    let path = "/tmp/rmas-sandbox-tests-" + UUID().uuidString.lowercased()

    func sandbox(useNamespaces: Bool = true, useSocketFilter: Bool = true) -> Sandbox {
        Sandbox(
            configuration: SandboxConfiguration(
                baseDirectory: path, useNamespaces: useNamespaces, useSocketFilter: useSocketFilter))
    }

    func python(useNamespaces: Bool = true, useSocketFilter: Bool = true) throws -> PythonSandbox {
        try PythonSandbox(
            sandbox: sandbox(useNamespaces: useNamespaces, useSocketFilter: useSocketFilter),
            interpreter: pythonInterpreter)
    }

    /// Expects the base directory to hold nothing, then removes it.
    func expectEmptyAndRemove(sourceLocation: SourceLocation = #_sourceLocation) {
        let left = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        #expect(left.isEmpty, "left behind in \(path): \(left)", sourceLocation: sourceLocation)
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The interpreter found once for the whole suite (each PythonSandbox still checks it runs).
let pythonInterpreter: String? = try? PythonSandbox().interpreter

/// Pids of the processes whose real uid is `uid` (from /proc/PID/status).
func processes(ofUID uid: UInt32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> Int32? in
        guard let pid = Int32(entry),
            let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }),
            let real = line.split(whereSeparator: \.isWhitespace).dropFirst().first
        else { return nil }
        return UInt32(real) == uid ? pid : nil
    }
}

/// Whether a path exists, without following a final symlink.
func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

/// A TCP listener on 127.0.0.1 with a kernel-chosen port; accept is non-blocking.
final class LoopbackListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, length) == 0 && listen(fd, 16) == 0
                    && getsockname(fd, generic, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.fd = fd
        self.port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }

    /// Accepts one pending connection, if any; says whether there was one.
    func acceptPending() -> Bool {
        let connection = accept(fd, nil, nil)
        if connection >= 0 { close(connection) }
        return connection >= 0
    }

    /// Connects from this (unsandboxed) process: the control that shows a connection is noticed.
    func connectFromHere() -> Bool {
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard client >= 0 else { return false }
        defer { close(client) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
