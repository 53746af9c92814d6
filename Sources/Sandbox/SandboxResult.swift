// What one sandboxed run produced: its outcome, the captured output, and which isolation was in force.
import Foundation

/// How a run ended, most specific cause first. A limit outcome means the sandbox stopped the
/// program (or the kernel refused it something fatal); the program is never trusted to report it.
public enum SandboxOutcome: Sendable, Equatable, CustomStringConvertible {
    /// The program exited by itself with this status (0 = success).
    case exited(Int32)
    /// The program was killed by this signal, not by one of the limits below.
    case killedBySignal(Int32)
    /// ``SandboxLimits/wallSeconds`` passed; the run was killed with SIGKILL.
    case timedOut
    /// ``SandboxLimits/cpuSeconds`` was used up (SIGXCPU, or SIGKILL at the hard limit).
    case cpuLimit
    /// ``SandboxLimits/memoryBytes`` was hit. Only ``PythonSandbox`` can tell (a final MemoryError).
    case memoryLimit
    /// ``SandboxLimits/fileBytes`` was hit (SIGXFSZ; or EFBIG reported by ``PythonSandbox``).
    case fileSizeLimit
    /// A stream passed ``SandboxLimits/outputBytes`` and ``SandboxLimits/killOnOutputLimit`` was set.
    case outputLimit

    /// Whether the program exited with status 0.
    public var isSuccess: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .killedBySignal(let signal): "killed by signal \(signal)"
        case .timedOut: "wall-clock limit exceeded"
        case .cpuLimit: "CPU-time limit exceeded"
        case .memoryLimit: "memory limit exceeded"
        case .fileSizeLimit: "file-size limit exceeded"
        case .outputLimit: "output limit exceeded"
        }
    }
}

/// The raw wait(2) status of the run, before any interpretation.
public enum TerminationStatus: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)
}

/// How network access was cut off, strongest first.
public enum NetworkIsolation: Sendable, Equatable {
    /// A new network namespace (unshare CLONE_NEWNET): no interface but a downed loopback, so
    /// nothing, not even 127.0.0.1, is reachable. Enforced by the kernel.
    case namespace
    /// A seccomp filter refuses socket() for every family but AF_UNIX. Enforced by the kernel.
    case socketFilter
    /// Only a Python prelude that disables socket creation: stops ordinary code, not a program
    /// that sets out to evade it (ctypes, a subprocess running another interpreter).
    case preludeOnly
    /// Nothing: the program has the caller's network access.
    case none
}

/// How the filesystem outside the scratch directory was protected.
public enum FilesystemIsolation: Sendable, Equatable {
    /// Private mount namespace: every mount read-only, fresh size-limited tmpfs on /tmp, /var/tmp
    /// and /dev/shm (discarded with the run), only the scratch directory writable.
    case readOnly
    /// Private tmpfs on the world-writable directories, the rest as the uid's permissions allow.
    case privateTemp
    /// None beyond file permissions of the uid the program runs as.
    case none
}

/// Which isolation measures were actually in force for a run (each is tried and may be refused by
/// the kernel or the container; see ``SandboxConfiguration``).
public struct SandboxIsolation: Sendable, Equatable {
    public var network: NetworkIsolation
    public var filesystem: FilesystemIsolation
    /// The program was pid 1 of its own pid namespace: it could see and signal only its own
    /// processes, and all of them died with it.
    public var pidNamespace: Bool
    /// Private System V IPC and POSIX message queues.
    public var ipcNamespace: Bool
    /// The program saw a /proc of its own pid namespace only.
    public var privateProc: Bool
    /// The seccomp socket filter was installed (also when a network namespace was in force).
    public var socketFilter: Bool
    /// The uid the program ran as, when it was dropped to an unprivileged one; nil when it ran as
    /// the caller's uid.
    public var userID: UInt32?

    public init(
        network: NetworkIsolation, filesystem: FilesystemIsolation, pidNamespace: Bool, ipcNamespace: Bool,
        privateProc: Bool, socketFilter: Bool, userID: UInt32?
    ) {
        self.network = network
        self.filesystem = filesystem
        self.pidNamespace = pidNamespace
        self.ipcNamespace = ipcNamespace
        self.privateProc = privateProc
        self.socketFilter = socketFilter
        self.userID = userID
    }
}

/// The result of one run. The scratch directory is already gone when this is returned.
public struct SandboxResult: Sendable {
    /// How the run ended.
    public var outcome: SandboxOutcome
    /// The raw termination status (SIGKILL after a timeout or output overflow).
    public var status: TerminationStatus
    /// The first ``SandboxLimits/outputBytes`` of standard output.
    public var stdout: Data
    /// The first ``SandboxLimits/outputBytes`` of standard error.
    public var stderr: Data
    /// More standard output was written than was kept.
    public var stdoutTruncated: Bool
    /// More standard error was written than was kept.
    public var stderrTruncated: Bool
    /// Seconds from launch to the end of the run (wall clock).
    public var wallSeconds: Double
    /// CPU seconds (user + system) of the program and the children it waited for.
    public var cpuSeconds: Double
    /// Which isolation measures were in force.
    public var isolation: SandboxIsolation
    /// The scratch directory the program ran in (removed by now).
    public var scratchPath: String

    public init(
        outcome: SandboxOutcome, status: TerminationStatus, stdout: Data, stderr: Data,
        stdoutTruncated: Bool = false, stderrTruncated: Bool = false, wallSeconds: Double,
        cpuSeconds: Double, isolation: SandboxIsolation, scratchPath: String
    ) {
        self.outcome = outcome
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.isolation = isolation
        self.scratchPath = scratchPath
    }

    /// Standard output as UTF-8 (invalid sequences replaced).
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Standard error as UTF-8 (invalid sequences replaced).
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// The exit status when the program exited by itself, else nil.
    public var exitCode: Int32? {
        if case .exited(let code) = status { code } else { nil }
    }
}
