// Resource limits of one sandboxed run: kernel rlimits (setrlimit(2)) plus the wall clock and the
// output caps that the caller enforces itself.

/// How much one run may use. Every value must be positive; ``Sandbox/run(executable:arguments:files:environment:limits:)``
/// rejects others with ``SandboxError/invalidLimits(_:)``.
public struct SandboxLimits: Sendable, Equatable {
    /// Wall-clock seconds from launch until the whole run (every process in it) is killed with
    /// SIGKILL. Outcome: ``SandboxOutcome/timedOut``.
    public var wallSeconds: Double
    /// CPU seconds (user + system) of the program: RLIMIT_CPU, soft limit; SIGXCPU at the soft
    /// limit, SIGKILL one second later. Outcome: ``SandboxOutcome/cpuLimit``.
    public var cpuSeconds: Int
    /// Bytes of address space per process: RLIMIT_AS. Allocations beyond it fail (a Python
    /// program then dies with MemoryError: ``SandboxOutcome/memoryLimit`` from ``PythonSandbox``).
    public var memoryBytes: Int
    /// Processes and threads of the sandbox user: RLIMIT_NPROC. It counts per real uid across the
    /// system and the kernel ignores it for root, so it only contains a fork bomb when the program
    /// runs as its own unprivileged uid (``SandboxUser/automatic`` does this when the caller is root).
    public var processes: Int
    /// Largest file the program may write, in bytes: RLIMIT_FSIZE (writes beyond it fail with
    /// EFBIG, or SIGXFSZ). Also the size of each private tmpfs (/tmp, /var/tmp, /dev/shm).
    public var fileBytes: Int
    /// Open file descriptors per process: RLIMIT_NOFILE. At least 8 (an interpreter needs a few).
    public var openFiles: Int
    /// Bytes kept of stdout, and separately of stderr. More is counted but not kept
    /// (``SandboxResult/stdoutTruncated``).
    public var outputBytes: Int
    /// When a stream passes ``outputBytes``: `true` kills the run (``SandboxOutcome/outputLimit``),
    /// so endless printing ends at once; `false` keeps draining and discarding until it exits.
    public var killOnOutputLimit: Bool

    /// Defaults suited to a HumanEval-style test program: 10 s wall, 10 CPU-s, 1 GiB, 32
    /// processes, 16 MiB files, 64 descriptors, 1 MiB of each output stream.
    public init(
        wallSeconds: Double = 10, cpuSeconds: Int = 10, memoryBytes: Int = 1 << 30,
        processes: Int = 32, fileBytes: Int = 16 << 20, openFiles: Int = 64,
        outputBytes: Int = 1 << 20, killOnOutputLimit: Bool = true
    ) {
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.processes = processes
        self.fileBytes = fileBytes
        self.openFiles = openFiles
        self.outputBytes = outputBytes
        self.killOnOutputLimit = killOnOutputLimit
    }

    /// Throws ``SandboxError/invalidLimits(_:)`` naming the first value out of range.
    func validate() throws(SandboxError) {
        guard wallSeconds.isFinite, wallSeconds > 0, wallSeconds <= 86_400 else {
            throw .invalidLimits("wallSeconds must be in (0, 86400], got \(wallSeconds)")
        }
        let positive: [(String, Int)] = [
            ("cpuSeconds", cpuSeconds), ("memoryBytes", memoryBytes), ("processes", processes),
            ("fileBytes", fileBytes), ("outputBytes", outputBytes),
        ]
        for (name, value) in positive where value <= 0 {
            throw .invalidLimits("\(name) must be positive, got \(value)")
        }
        guard openFiles >= 8 else {
            throw .invalidLimits("openFiles must be at least 8, got \(openFiles)")
        }
    }
}
