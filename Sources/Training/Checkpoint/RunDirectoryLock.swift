// One writer per run directory: an exclusive flock(2) on `DIR/.lock`, taken before a run writes
// anything there and held until it ends. The kernel drops the lock when the holder exits, also
// after kill -9, so a stale lock file never blocks a later run.
import Foundation

/// An exclusive lock on a checkpoint directory; released when this value is deinitialised.
public final class RunDirectoryLock: @unchecked Sendable {
    public let directory: URL
    private let descriptor: Int32

    /// Takes the lock, creating the directory if needed. Never waits.
    /// - Throws: ``CheckpointError/locked(path:holder:)`` when another process (or another run in
    ///   this one) holds it; ``CheckpointError/io(path:detail:)`` when the lock file cannot be opened.
    public init(directory: URL) throws(CheckpointError) {
        self.directory = directory
        let path = directory.appendingPathComponent(".lock").path
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory.path, detail: "cannot create the directory: \(error.localizedDescription)")
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: path, detail: "cannot open the lock file: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            if reason == EWOULDBLOCK {
                let holder = count > 0 ? Int(String(decoding: buffer.prefix(count), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)) : nil
                throw .locked(path: directory.path, holder: holder)
            }
            throw .io(path: path, detail: "cannot lock: \(String(cString: strerror(reason)))")
        }
        // Record the holder for the next one's message (best effort: the lock itself is the flock).
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = pwrite(fd, pid, pid.count, 0) }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
