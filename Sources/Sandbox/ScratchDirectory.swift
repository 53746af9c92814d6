// The per-run working directory: created fresh under the base directory, filled with the run's
// files, owned by the sandbox uid, and removed afterwards however the program left it (modes
// cleared, trees deeper than PATH_MAX, symlinks pointing anywhere).
import Foundation

struct ScratchDirectory {
    /// Absolute, symlink-free path.
    let path: String

    /// Creates `<base>/rmas-sandbox-<uuid>` (mode 0700, owned by `owner` when given).
    static func create(base: String, owner: Identity?) throws(SandboxError) -> ScratchDirectory {
        if access(base, F_OK) != 0 {
            do {
                try FileManager.default.createDirectory(
                    atPath: base, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o711])
            } catch {
                throw .scratchDirectory(path: base, operation: "create base directory", errno: errno)
            }
        }
        guard let resolved = realpath(base, nil) else {
            throw .scratchDirectory(path: base, operation: "resolve base directory", errno: errno)
        }
        let resolvedBase = String(cString: resolved)
        free(resolved)
        let path =
            (resolvedBase == "/" ? "" : resolvedBase) + "/rmas-sandbox-" + UUID().uuidString.lowercased()
        guard mkdir(path, 0o700) == 0 else {
            throw .scratchDirectory(path: path, operation: "mkdir", errno: errno)
        }
        let scratch = ScratchDirectory(path: path)
        if let owner, chown(path, owner.uid, owner.gid) != 0 {
            let code = errno
            try? scratch.remove()
            throw .scratchDirectory(path: path, operation: "chown", errno: code)
        }
        return scratch
    }

    /// Checks a file name for the scratch directory: relative, no empty, "." or ".." components.
    static func validate(name: String) throws(SandboxError) {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, !name.hasPrefix("/"), !name.utf8.contains(0),
            components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
        else { throw .invalidFileName(name) }
    }

    /// Writes each file (mode 0644; intermediate directories 0755), owned by `owner` when given.
    func write(files: [String: Data], owner: Identity?) throws(SandboxError) {
        for (name, contents) in files.sorted(by: { $0.key < $1.key }) {
            try Self.validate(name: name)
            let components = name.split(separator: "/").map(String.init)
            var directory = path
            for component in components.dropLast() {
                directory += "/" + component
                if mkdir(directory, 0o755) != 0 && errno != EEXIST {
                    throw .scratchDirectory(path: directory, operation: "mkdir", errno: errno)
                }
                if let owner { _ = chown(directory, owner.uid, owner.gid) }
            }
            let filePath = path + "/" + name
            let fd = open(filePath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw .scratchDirectory(path: filePath, operation: "create", errno: errno) }
            defer { close(fd) }
            let failure: Int32? = contents.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    offset += n
                }
                return nil
            }
            if let failure { throw .scratchDirectory(path: filePath, operation: "write", errno: failure) }
            if let owner, fchown(fd, owner.uid, owner.gid) != 0 {
                throw .scratchDirectory(path: filePath, operation: "chown", errno: errno)
            }
        }
    }

    /// Removes the directory and everything in it, without following symlinks and without
    /// building paths (so depth is unbounded): descend into a subdirectory, empty it, climb back
    /// with "..", remove it by name, repeat. Two descriptors open at a time.
    func remove() throws(SandboxError) {
        var lastError: Int32 = 0
        for _ in 0..<2 {  // a second pass for entries that appeared during the first
            lastError = Self.removeTree(path)
            if lastError == 0 || lastError == ENOENT { return }
        }
        throw .scratchDirectory(path: path, operation: "remove", errno: lastError)
    }

    /// 0 on success, else the errno of the step that failed.
    private static func removeTree(_ root: String) -> Int32 {
        _ = chmod(root, 0o700)
        var fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        var trail: [String] = []  // names from root to the current directory
        while true {
            switch emptyFiles(in: fd) {
            case .failed(let code):
                close(fd)
                return code
            case .descend(let subdirectory):
                _ = fchmodat(fd, subdirectory, 0o700, 0)  // the program may have locked it
                let child = openat(fd, subdirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else {
                    let code = errno
                    close(fd)
                    return code
                }
                close(fd)
                fd = child
                trail.append(subdirectory)
            case .empty:
                guard let name = trail.popLast() else {
                    close(fd)
                    return rmdir(root) == 0 ? 0 : errno
                }
                let parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                close(fd)
                guard parent >= 0 else { return errno }
                fd = parent
                if unlinkat(fd, name, AT_REMOVEDIR) != 0 {
                    let code = errno
                    close(fd)
                    return code
                }
            }
        }
    }

    private enum Step {
        case failed(Int32)
        /// A subdirectory is left to empty.
        case descend(String)
        /// Nothing is left in the directory.
        case empty
    }

    /// Unlinks every non-directory in the directory; names one subdirectory, if any is left.
    private static func emptyFiles(in fd: Int32) -> Step {
        let listing = dup(fd)
        guard listing >= 0 else { return .failed(errno) }
        guard let stream = fdopendir(listing) else {
            let code = errno
            close(listing)
            return .failed(code)
        }
        defer { closedir(stream) }
        var subdirectory: String?
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return .failed(errno) }
            if info.st_mode & S_IFMT == S_IFDIR {
                subdirectory = subdirectory ?? name
            } else if unlinkat(fd, name, 0) != 0 {
                return .failed(errno)
            }
        }
        return subdirectory.map { .descend($0) } ?? .empty
    }
}
