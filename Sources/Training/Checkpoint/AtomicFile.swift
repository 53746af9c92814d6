import Foundation

/// Errors writing or reading checkpoint files.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(path: String, detail: String)
    case invalidManifest(path: String, detail: String)
    case tensors(path: String, SafeTensorsError)
    case mismatch(detail: String)
    /// Another run holds the directory's lock (`holder`: its pid, when it recorded one).
    case locked(path: String, holder: Int?)

    public var description: String {
        switch self {
        case .io(let path, let detail): "\(path): \(detail)"
        case .invalidManifest(let path, let detail): "\(path): invalid checkpoint manifest: \(detail)"
        case .tensors(let path, let error): "\(path): \(error)"
        case .mismatch(let detail): "checkpoint does not match: \(detail)"
        case .locked(let path, let holder):
            "\(path) is in use by another run\(holder.map { " (pid \($0))" } ?? ""); wait for it to finish or choose another output directory"
        }
    }
}

/// Whole-file writes that are atomic on POSIX: a temporary file in the same directory is written,
/// flushed to disk and renamed over the target, so readers (and a run killed mid-write) see
/// either the old file or the new one, never a torn one.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws(CheckpointError) {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw CheckpointError.io(path: temporary.path, detail: "cannot create")
            }
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch let error as CheckpointError {
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .io(path: url.path, detail: "\(error)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw .io(path: url.path, detail: "rename failed: \(reason)")
        }
        // Persist the rename itself.
        let fd = open(directory.path, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
