// Why a sandboxed run could not take place. A program that fails, crashes or exceeds a limit is
// not an error: that is a SandboxResult with its outcome.
import Foundation

/// A run that could not be set up, started or cleaned up.
public enum SandboxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A limit is out of range; the message names it.
    case invalidLimits(String)
    /// A file name for the scratch directory is empty, absolute, has an empty, "." or ".."
    /// component or a NUL byte, or is reserved.
    case invalidFileName(String)
    /// An argument or environment entry contains a NUL byte, or an environment name is empty or
    /// contains "=".
    case invalidArgument(String)
    /// No executable of this name in the sandbox's PATH (or the given path is not executable).
    case executableNotFound(String)
    /// No Python interpreter runs inside the sandbox; lists the candidates tried and why each failed.
    case pythonNotFound(tried: [String])
    /// Every uid of the configured pool is in use by this process's other runs.
    case noFreeUserID(first: UInt32, count: UInt32)
    /// Creating, filling or removing the scratch directory failed.
    case scratchDirectory(path: String, operation: String, errno: Int32)
    /// The program could not be started. `stage` says where (see ``LaunchStage``).
    case launchFailed(stage: LaunchStage, errno: Int32)
    /// A system call of the supervising side failed (pipe, poll, read, wait).
    case system(call: String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidLimits(let message):
            "invalid sandbox limits: \(message)"
        case .invalidFileName(let name):
            "invalid scratch file name \(name.debugDescription): use a relative path without '.', '..' or empty components"
        case .invalidArgument(let message):
            "invalid argument: \(message)"
        case .executableNotFound(let name):
            "executable \(name.debugDescription) not found or not executable in the sandbox PATH"
        case .pythonNotFound(let tried):
            "no Python interpreter runs in the sandbox (tried: \(tried.joined(separator: "; "))); "
                + "install python3 where the sandbox uid can read it (e.g. /usr/bin/python3)"
        case .noFreeUserID(let first, let count):
            "all \(count) sandbox uids from \(first) are in use; raise the pool size or lower concurrency"
        case .scratchDirectory(let path, let operation, let code):
            "scratch directory \(path): \(operation) failed: \(Self.message(code))"
        case .launchFailed(let stage, let code):
            "could not start the sandboxed program (\(stage)): \(Self.message(code))"
        case .system(let call, let code):
            "\(call) failed: \(Self.message(code))"
        }
    }

    private static func message(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}

/// The step of starting a program that failed (mirrors CSANDBOX_STAGE_* of the C target).
public enum LaunchStage: Int32, Sendable, Equatable, CustomStringConvertible {
    case pipe = 1
    case fork, session, forkInner, descriptors, mount, chdir, rlimit, identity
    case noNewPrivileges, exec, protocolError

    public var description: String {
        switch self {
        case .pipe: "status pipe"
        case .fork: "fork"
        case .session: "setsid"
        case .forkInner: "fork into the pid namespace"
        case .descriptors: "stdin/stdout/stderr"
        case .mount: "binding the scratch directory"
        case .chdir: "entering the scratch directory"
        case .rlimit: "setrlimit"
        case .identity: "dropping to the sandbox uid"
        case .noNewPrivileges: "no_new_privs"
        case .exec: "execve"
        case .protocolError: "status messages cut short"
        }
    }
}
