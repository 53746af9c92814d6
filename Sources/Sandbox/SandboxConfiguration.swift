// Where and as whom sandboxed programs run, and which kernel isolation to try. Per-run limits are
// in SandboxLimits; this is what stays the same across runs.
import Foundation

/// The uid a sandboxed program runs as.
public enum SandboxUser: Sendable, Equatable {
    /// When the caller is root: a uid of its own for every concurrent run, from the pool at
    /// ``defaultPoolFirst`` (``defaultPoolCount`` uids). Otherwise: the caller's uid.
    case automatic
    /// The caller's uid. As root this means root: no RLIMIT_NPROC, signals to the caller allowed.
    /// Only for callers that are not root.
    case current
    /// Always this uid and gid (needs root). Concurrent runs then share RLIMIT_NPROC.
    case fixed(uid: UInt32, gid: UInt32)
    /// A uid of its own for every concurrent run, from `first ..< first + count`; gid = uid
    /// (needs root). Two processes running sandboxes at once should use disjoint pools.
    case pool(first: UInt32, count: UInt32)

    /// First uid of the default pool: far above login users (1000…), systemd's dynamic users
    /// (61184…65519) and container ranges (65536…1879048191), far below (uid_t)-1.
    public static let defaultPoolFirst: UInt32 = 1_900_000_000
    /// Size of the default pool: the most runs one process can have at once.
    public static let defaultPoolCount: UInt32 = 256
}

/// The settings shared by all runs of a ``Sandbox``.
public struct SandboxConfiguration: Sendable, Equatable {
    /// Directory under which each run gets its scratch directory (created with mode 0711 if
    /// missing; it must be searchable by the sandbox uid). Default: the system temporary directory.
    public var baseDirectory: String
    /// Who the program runs as.
    public var user: SandboxUser
    /// Try network, pid, IPC and mount namespaces (each is kept only if the kernel allows it;
    /// ``SandboxResult/isolation`` reports what took effect).
    public var useNamespaces: Bool
    /// Install the seccomp filter that refuses non-AF_UNIX sockets.
    public var useSocketFilter: Bool
    /// The program's PATH, also used to resolve an executable name without a slash.
    public var path: String
    /// The program's LANG.
    public var language: String

    public init(
        baseDirectory: String = FileManager.default.temporaryDirectory.path,
        user: SandboxUser = .automatic, useNamespaces: Bool = true, useSocketFilter: Bool = true,
        path: String = "/usr/local/bin:/usr/bin:/bin", language: String = "C.UTF-8"
    ) {
        self.baseDirectory = baseDirectory
        self.user = user
        self.useNamespaces = useNamespaces
        self.useSocketFilter = useSocketFilter
        self.path = path
        self.language = language
    }
}
