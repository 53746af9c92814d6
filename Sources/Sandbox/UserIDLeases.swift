// Per-run uids for a root caller: each concurrent run gets a uid no other run of this process uses,
// so RLIMIT_NPROC (counted per uid) contains one run's fork bomb without starving the others, and
// runs cannot signal or read each other's files.
import Foundation

/// The identity a run executes under: nil when the caller's own.
struct Identity: Sendable {
    var uid: UInt32
    var gid: UInt32
}

/// The uids of all pools currently leased by this process.
final class UserIDLeases: @unchecked Sendable {
    /// The process-wide registry (uids must be unique across all Sandbox values).
    static let shared = UserIDLeases()

    private let lock = NSLock()
    private var leased: Set<UInt32> = []
    private var cursor: UInt32 = 0

    /// Leases the next free uid of `first ..< first + count` (round-robin, so that a uid just
    /// released is not reused at once).
    func lease(first: UInt32, count: UInt32) throws(SandboxError) -> UInt32 {
        lock.lock()
        defer { lock.unlock() }
        for step in 0..<count {
            let uid = first &+ (cursor &+ step) % count
            if !leased.contains(uid) {
                leased.insert(uid)
                cursor = (cursor &+ step &+ 1) % count
                return uid
            }
        }
        throw .noFreeUserID(first: first, count: count)
    }

    func release(_ uid: UInt32) {
        lock.lock()
        leased.remove(uid)
        lock.unlock()
    }
}

extension SandboxUser {
    /// The identity for one run and whether it came from a pool (then it must be released).
    func acquire() throws(SandboxError) -> (identity: Identity?, pooled: Bool) {
        let isRoot = geteuid() == 0
        switch self {
        case .current:
            return (nil, false)
        case .automatic:
            guard isRoot else { return (nil, false) }
            return try SandboxUser.pool(first: Self.defaultPoolFirst, count: Self.defaultPoolCount).acquire()
        case .fixed(let uid, let gid):
            return (Identity(uid: uid, gid: gid), false)
        case .pool(let first, let count):
            guard count > 0, UInt64(first) + UInt64(count) < UInt64(UInt32.max) else {
                throw .invalidArgument("uid pool \(first) + \(count) is empty or overflows uid_t")
            }
            let uid = try UserIDLeases.shared.lease(first: first, count: count)
            return (Identity(uid: uid, gid: uid), true)
        }
    }
}
