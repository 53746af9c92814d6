// Swift side of csandbox_spawn: turns a run's settings into the C spec (argv, envp, limits,
// identity, namespaces) and the launch report into SandboxIsolation.
import CSandbox
import Foundation

/// One program to start.
struct LaunchRequest {
    /// Absolute path of the executable.
    var executable: String
    /// argv, including argv[0].
    var arguments: [String]
    /// The complete environment.
    var environment: [String: String]
    /// Absolute path of the scratch directory.
    var workdir: String
    var limits: SandboxLimits
    var identity: Identity?
    var useNamespaces: Bool
    var useSocketFilter: Bool
}

/// A started program.
struct LaunchedProcess {
    /// The outer child (the run's subreaper): its exit means every process of the run is gone.
    var pid: Int32
    /// The program itself, leader of the process group that ``Supervisor`` kills.
    var group: Int32
    var isolation: SandboxIsolation
}

enum Launcher {
    /// Starts the program with the given descriptors as its fd 0, 1 and 2. Returns once it has
    /// been exec'd; throws if any step before that failed (nothing is left running then).
    static func launch(_ request: LaunchRequest, stdin: Int32, stdout: Int32, stderr: Int32)
        throws(SandboxError) -> LaunchedProcess
    {
        let environment = request.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let tmpfsOptions = "size=\(max(request.limits.fileBytes, 1 << 20)),nr_inodes=4096,mode=1777"
        var launch = csandbox_launch()
        let status = withCStringArray(request.arguments) { argv in
            withCStringArray(environment) { envp in
                request.executable.withCString { path in
                    request.workdir.withCString { workdir in
                        tmpfsOptions.withCString { tmpfs in
                            var spec = csandbox_spec()
                            spec.path = path
                            spec.argv = argv
                            spec.envp = envp
                            spec.workdir = workdir
                            spec.stdin_fd = stdin
                            spec.stdout_fd = stdout
                            spec.stderr_fd = stderr
                            spec.cpu_seconds = Int64(request.limits.cpuSeconds)
                            spec.memory_bytes = Int64(request.limits.memoryBytes)
                            spec.processes = Int64(request.limits.processes)
                            spec.file_bytes = Int64(request.limits.fileBytes)
                            spec.open_files = Int64(request.limits.openFiles)
                            if let identity = request.identity {
                                spec.set_identity = 1
                                spec.uid = identity.uid
                                spec.gid = identity.gid
                            }
                            if request.useNamespaces {
                                spec.namespaces = Int32(
                                    CSANDBOX_NS_NET | CSANDBOX_NS_PID | CSANDBOX_NS_IPC | CSANDBOX_NS_MOUNT)
                            }
                            spec.socket_filter = request.useSocketFilter ? 1 : 0
                            spec.tmpfs_options = tmpfs
                            return csandbox_spawn(&spec, &launch)
                        }
                    }
                }
            }
        }
        guard status == 0 else {
            let stage = LaunchStage(rawValue: launch.failed_stage) ?? .protocolError
            if stage == .exec && (launch.failed_errno == ENOENT || launch.failed_errno == EACCES) {
                throw .executableNotFound(request.executable)
            }
            throw .launchFailed(stage: stage, errno: launch.failed_errno)
        }
        return LaunchedProcess(
            pid: launch.pid, group: launch.inner_pid,
            isolation: isolation(of: launch, identity: request.identity))
    }

    /// What the launch report says was in force.
    static func isolation(of launch: csandbox_launch, identity: Identity?) -> SandboxIsolation {
        let ns = launch.namespaces
        let fs = launch.filesystem
        let filter = launch.socket_filter != 0
        let network: NetworkIsolation =
            ns & Int32(CSANDBOX_NS_NET) != 0 ? .namespace : (filter ? .socketFilter : .none)
        let filesystem: FilesystemIsolation =
            fs & Int32(CSANDBOX_FS_READ_ONLY_ROOT) != 0
            ? .readOnly : (fs & Int32(CSANDBOX_FS_PRIVATE_TMP) != 0 ? .privateTemp : .none)
        return SandboxIsolation(
            network: network, filesystem: filesystem,
            pidNamespace: ns & Int32(CSANDBOX_NS_PID) != 0,
            ipcNamespace: ns & Int32(CSANDBOX_NS_IPC) != 0,
            privateProc: fs & Int32(CSANDBOX_FS_PRIVATE_PROC) != 0,
            socketFilter: filter, userID: identity?.uid)
    }

    /// Network isolation this process can get, found once per setting by trying in a child.
    static func probeNetwork(useNamespaces: Bool, useSocketFilter: Bool) -> NetworkIsolation {
        let bits = csandbox_probe(useNamespaces ? Int32(CSANDBOX_NS_NET) : 0, useSocketFilter ? 1 : 0)
        guard bits >= 0 else { return .none }
        if bits & Int32(CSANDBOX_NS_NET) != 0 { return .namespace }
        return bits & 16 != 0 ? .socketFilter : .none
    }

    /// Calls `body` with a NULL-terminated array of C strings that lives for the call.
    private static func withCStringArray<R>(
        _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R
    ) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
