// Runs one untrusted program in a throwaway scratch directory under rlimits, a wall clock, an
// unprivileged uid and the kernel isolation available (namespaces, seccomp), capturing its output.
// Used by the code-evaluation harness and, through PythonSandbox/PythonTool, by the agent tool loop.
import CSandbox
import Foundation

/// Executes untrusted programs. A value type holding only settings: share it freely; every
/// ``run(executable:arguments:files:environment:limits:)`` is independent (its own scratch
/// directory, process group, namespaces and, for a root caller, its own uid).
///
/// What a run gets (each kernel measure is tried and reported in ``SandboxResult/isolation``):
/// - a session of its own; the program leads a process group that is killed with SIGKILL at the
///   wall-clock limit; a supervising child (a subreaper) reaps every process of the run, so none
///   is left to the host's init, and the run ends only when the last of them is gone;
/// - a pid namespace in which the program is pid 1, so that all of its processes die with it,
///   even ones that left the process group; without one, a root caller also kills everything
///   running as the run's uid when it kills the group;
/// - rlimits on CPU time, address space, processes, file size and descriptors; no core dumps;
/// - for a root caller, a uid and gid of its own with no supplementary groups and no_new_privs:
///   it cannot signal or ptrace the caller, read its /proc/PID/environ, or exceed RLIMIT_NPROC;
/// - a network namespace (nothing reachable), and a seccomp filter refusing non-AF_UNIX sockets;
/// - a private mount namespace: all mounts read-only, fresh tmpfs on /tmp, /var/tmp and /dev/shm,
///   a /proc of its own, and only the scratch directory writable;
/// - an IPC namespace; stdin from /dev/null; an environment of PATH, HOME (= the scratch
///   directory), LANG and what the caller passes explicitly, nothing inherited.
public struct Sandbox: Sendable {
    public var configuration: SandboxConfiguration

    public init(configuration: SandboxConfiguration = SandboxConfiguration()) {
        self.configuration = configuration
    }

    /// Runs `executable` to completion (or until a limit ends it) and returns what happened. Blocks
    /// the calling thread for up to ``SandboxLimits/wallSeconds`` (plus about a second of cleanup).
    ///
    /// - Parameters:
    ///   - executable: an absolute path, or a name looked up in ``SandboxConfiguration/path``.
    ///   - arguments: argv[1...].
    ///   - files: relative path → contents, written into the scratch directory before the start.
    ///   - environment: extra variables on top of PATH, HOME and LANG (which they may override).
    ///   - limits: the resource limits of this run.
    /// - Throws: ``SandboxError`` when the run cannot be set up, started or cleaned up. A program
    ///   that fails or hits a limit is a result, not an error.
    public func run(
        executable: String, arguments: [String] = [], files: [String: Data] = [:],
        environment: [String: String] = [:], limits: SandboxLimits = SandboxLimits()
    ) throws(SandboxError) -> SandboxResult {
        try limits.validate()
        for argument in arguments where argument.utf8.contains(0) {
            throw .invalidArgument("argument \(argument.debugDescription) contains a NUL byte")
        }
        for (name, value) in environment
        where name.isEmpty || name.contains("=") || name.utf8.contains(0) || value.utf8.contains(0) {
            throw .invalidArgument("environment entry \(name.debugDescription) is not NAME=VALUE without NUL")
        }
        for name in files.keys { try ScratchDirectory.validate(name: name) }
        let path = try resolve(executable)

        let (identity, pooled) = try configuration.user.acquire()
        defer { if pooled, let identity { UserIDLeases.shared.release(identity.uid) } }
        let scratch = try ScratchDirectory.create(base: configuration.baseDirectory, owner: identity)
        let result: SandboxResult
        do {
            try scratch.write(files: files, owner: identity)
            var variables = [
                "PATH": configuration.path, "HOME": scratch.path, "LANG": configuration.language,
            ]
            variables.merge(environment) { _, explicit in explicit }
            let request = LaunchRequest(
                executable: path, arguments: [executable] + arguments, environment: variables,
                workdir: scratch.path, limits: limits, identity: identity,
                useNamespaces: configuration.useNamespaces, useSocketFilter: configuration.useSocketFilter)
            result = try Self.execute(request, scratchPath: scratch.path, pooled: pooled)
        } catch {
            try? scratch.remove()
            throw error
        }
        try scratch.remove()
        return result
    }

    /// The same as the blocking ``run(executable:arguments:files:environment:limits:)``, on a
    /// thread of its own so that it does not hold one of Swift's cooperative pool.
    public func run(
        executable: String, arguments: [String] = [], files: [String: Data] = [:],
        environment: [String: String] = [:], limits: SandboxLimits = SandboxLimits()
    ) async throws(SandboxError) -> SandboxResult {
        try await offloaded { () throws(SandboxError) in
            try self.run(
                executable: executable, arguments: arguments, files: files, environment: environment,
                limits: limits)
        }
    }

    /// The network isolation runs of this sandbox will get, found by trying in a child process.
    public func probeNetworkIsolation() -> NetworkIsolation {
        Launcher.probeNetwork(
            useNamespaces: configuration.useNamespaces, useSocketFilter: configuration.useSocketFilter)
    }

    // MARK: - Steps

    /// An absolute path for `executable`, searched in the sandbox PATH when it has no slash.
    func resolve(_ executable: String) throws(SandboxError) -> String {
        guard !executable.isEmpty, !executable.utf8.contains(0) else { throw .executableNotFound(executable) }
        let candidates =
            executable.contains("/")
            ? [executable]
            : configuration.path.split(separator: ":").map { "\($0)/\(executable)" }
        for candidate in candidates where candidate.hasPrefix("/") && access(candidate, X_OK) == 0 {
            var info = stat()
            if stat(candidate, &info) == 0 && info.st_mode & S_IFMT == S_IFREG { return candidate }
        }
        throw .executableNotFound(executable)
    }

    /// Pipes, launch, supervision, and the sweep of leftover processes.
    private static func execute(_ request: LaunchRequest, scratchPath: String, pooled: Bool)
        throws(SandboxError) -> SandboxResult
    {
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard devNull >= 0 else { throw .system(call: "open /dev/null", errno: errno) }
        defer { close(devNull) }
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard csandbox_pipe(&out) == 0 else { throw .system(call: "pipe", errno: errno) }
        guard csandbox_pipe(&err) == 0 else {
            let code = errno
            close(out[0])
            close(out[1])
            throw .system(call: "pipe", errno: code)
        }

        let started = ContinuousClock().now
        let launched: LaunchedProcess
        do {
            launched = try Launcher.launch(request, stdin: devNull, stdout: out[1], stderr: err[1])
        } catch {
            for fd in out + err { close(fd) }
            throw error
        }
        close(out[1])
        close(err[1])
        // Without a pid namespace, processes that left the program's group are reached through
        // the run's own uid (only when it is this run's alone).
        let sweepUID = pooled && !launched.isolation.pidNamespace ? request.identity?.uid : nil
        let report = Supervisor.supervise(
            launched, stdout: out[0], stderr: err[0], limits: request.limits, sweepUID: sweepUID,
            started: started)
        return SandboxResult(
            outcome: outcome(of: report, limits: request.limits), status: report.status,
            stdout: report.stdout, stderr: report.stderr, stdoutTruncated: report.stdoutTruncated,
            stderrTruncated: report.stderrTruncated, wallSeconds: report.wallSeconds,
            cpuSeconds: report.cpuSeconds, isolation: launched.isolation, scratchPath: scratchPath)
    }

    /// The outcome, from the sandbox's own actions first, then from the termination status.
    static func outcome(of report: SupervisionReport, limits: SandboxLimits) -> SandboxOutcome {
        if report.timedOut { return .timedOut }
        if report.outputExceeded { return .outputLimit }
        switch report.status {
        case .exited(let code):
            return .exited(code)
        case .signaled(SIGXCPU):
            return .cpuLimit
        case .signaled(SIGXFSZ):
            return .fileSizeLimit
        case .signaled(SIGKILL) where report.cpuSeconds >= Double(limits.cpuSeconds):
            return .cpuLimit  // the hard RLIMIT_CPU (pid 1 of a namespace ignores SIGXCPU)
        case .signaled(let signal):
            return .killedBySignal(signal)
        }
    }
}

/// Runs blocking work on a thread of its own and awaits it. Neither Swift's cooperative pool nor
/// Dispatch's global queues (as wide as the CPU count on Linux, where they cannot see a thread
/// blocked in poll) would let runs that mostly wait overlap.
func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws(SandboxError) -> T)
    async throws(SandboxError) -> T
{
    let result: Result<T, SandboxError> = await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: Result(catching: work)) }.start()
    }
    return try result.get()
}
