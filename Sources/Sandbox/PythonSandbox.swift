// Python programs in the Sandbox: finds an interpreter that works inside it (as the sandbox uid,
// under the read-only mounts), runs program text with an optional prelude, and recognises the
// limit failures only Python's own error output reveals (MemoryError, EFBIG).
import Foundation

/// Runs Python program text in a ``Sandbox``.
///
/// The program is written to `main.py` in the scratch directory and started as
/// `python3 -B -s -u -c <bootstrap>`; the bootstrap executes `_prelude.py` (the prelude) and then
/// `main.py` in the same `__main__` namespace, so the prelude's imports are visible to the
/// program while tracebacks still show `main.py` with its own line numbers. The other scratch
/// files sit beside it and are importable. Output is unbuffered (`-u`), so what was printed before
/// a timeout is kept.
///
/// When the sandbox can cut the network neither by a namespace nor by the seccomp filter, a
/// prelude that makes socket creation raise PermissionError is added and the result reports
/// ``NetworkIsolation/preludeOnly``.
public struct PythonSandbox: Sendable {
    /// The sandbox the programs run in.
    public let sandbox: Sandbox
    /// Absolute path of the interpreter in use.
    public let interpreter: String
    /// Network isolation the sandbox provides here, found when this value was made.
    public let kernelNetworkIsolation: NetworkIsolation

    /// Names the bootstrap uses in the scratch directory; `files` may not use them.
    public static let reservedFileNames: Set<String> = ["main.py", "_prelude.py"]

    /// Interpreters tried, in order, when none is given: the system ones first (an interpreter under
    /// /root, as pyenv installs it, is not readable by the sandbox uid), then python3 on the
    /// caller's PATH.
    public static var defaultCandidates: [String] {
        let fromPath = (ProcessInfo.processInfo.environment["PATH"] ?? "")
            .split(separator: ":").map { "\($0)/python3" }
        var seen = Set<String>()
        return (["/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"] + fromPath)
            .filter { $0.hasPrefix("/") && seen.insert($0).inserted }
    }

    /// Finds an interpreter that runs in `sandbox`: `interpreter` if given, else the first of
    /// ``defaultCandidates`` that starts there and is Python ≥ 3.8. Each candidate costs one short run.
    public init(sandbox: Sandbox = Sandbox(), interpreter: String? = nil) throws(SandboxError) {
        self.sandbox = sandbox
        self.kernelNetworkIsolation = sandbox.probeNetworkIsolation()
        let candidates: [String] =
            if let interpreter { [interpreter] } else {
                Self.defaultCandidates.filter { access($0, X_OK) == 0 }
            }
        var tried: [String] = []
        let check = "import sys; sys.exit(0 if sys.version_info >= (3, 8) else 3)"
        let limits = SandboxLimits(wallSeconds: 15, cpuSeconds: 10, outputBytes: 4096)
        for candidate in candidates {
            do throws(SandboxError) {
                let result = try sandbox.run(
                    executable: candidate, arguments: ["-B", "-s", "-c", check], limits: limits)
                if result.outcome.isSuccess {
                    self.interpreter = candidate
                    return
                }
                let reason = result.stderrText.split(separator: "\n").last.map(String.init) ?? ""
                tried.append("\(candidate): \(result.outcome) \(reason)")
            } catch .executableNotFound {
                tried.append("\(candidate): not executable")
            } catch {
                throw error
            }
        }
        throw .pythonNotFound(tried: tried.isEmpty ? ["no python3 found"] : tried)
    }

    /// Runs `program` after `prelude` (both Python source) with `files` beside it.
    ///
    /// The outcome is refined from Python's error output: a non-zero exit whose last stderr line
    /// is a `MemoryError` is ``SandboxOutcome/memoryLimit``; one reporting `[Errno 27] File too
    /// large` is ``SandboxOutcome/fileSizeLimit``. (The program could print those itself; it
    /// would only change how its failure is labelled.)
    public func run(
        _ program: String, prelude: String = "", files: [String: Data] = [:],
        limits: SandboxLimits = SandboxLimits()
    ) throws(SandboxError) -> SandboxResult {
        if let reserved = files.keys.first(where: Self.reservedFileNames.contains) {
            throw .invalidFileName(reserved)
        }
        let blockInPython = kernelNetworkIsolation == .none
        var all = files
        all["main.py"] = Data(program.utf8)
        all["_prelude.py"] = Data(((blockInPython ? Self.networkPrelude : "") + prelude).utf8)
        var result = try sandbox.run(
            executable: interpreter, arguments: ["-B", "-s", "-u", "-c", Self.bootstrap], files: all,
            limits: limits)
        if blockInPython && result.isolation.network == .none { result.isolation.network = .preludeOnly }
        result.outcome = Self.refine(
            result.outcome, stderr: result.stderrText, truncated: result.stderrTruncated)
        return result
    }

    /// The same as the blocking ``run(_:prelude:files:limits:)``, off Swift's cooperative pool.
    public func run(
        _ program: String, prelude: String = "", files: [String: Data] = [:],
        limits: SandboxLimits = SandboxLimits()
    ) async throws(SandboxError) -> SandboxResult {
        try await offloaded { () throws(SandboxError) in
            try self.run(program, prelude: prelude, files: files, limits: limits)
        }
    }

    // MARK: - Python text

    /// Runs the prelude, then main.py, in __main__, as if main.py had been started directly.
    static let bootstrap = """
        import sys
        sys.argv[:] = ['main.py']
        exec(compile(open('_prelude.py', encoding='utf-8').read(), '_prelude.py', 'exec'))
        __file__ = 'main.py'
        exec(compile(open('main.py', encoding='utf-8').read(), 'main.py', 'exec'))
        """

    /// Makes creating any socket raise PermissionError (the last resort without kernel isolation).
    static let networkPrelude = """
        def _sandbox_block_network():
            import socket, _socket
            def blocked(base):
                class Blocked(base):
                    def __init__(self, *args, **kwargs):
                        raise PermissionError(13, 'network access is disabled in this sandbox')
                return Blocked
            socket.socket = socket.SocketType = blocked(socket.socket)
            _socket.socket = _socket.SocketType = blocked(_socket.socket)
        _sandbox_block_network()
        del _sandbox_block_network

        """

    /// Limit outcomes that show only in Python's error output.
    static func refine(_ outcome: SandboxOutcome, stderr: String, truncated: Bool) -> SandboxOutcome {
        guard case .exited(let code) = outcome, code != 0, !truncated else { return outcome }
        let lastLine = stderr.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        if lastLine.hasPrefix("MemoryError") { return .memoryLimit }
        if lastLine.contains("[Errno 27] File too large") { return .fileSizeLimit }
        return outcome
    }
}
