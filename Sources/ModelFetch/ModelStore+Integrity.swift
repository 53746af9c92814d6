// The model store's integrity check on every use. A stamp written after the full sha256 verified
// records the file's size, modification time and a fingerprint (sha256 of the size and 64
// evenly spaced 16 KiB samples, ~1 MiB read). On use: a size or fingerprint mismatch is
// corruption; a changed modification time (the file was written to, or copied without -p) costs
// one full sha256, after which the stamp is renewed or the file is reported corrupt.
// `rmas models verify` always runs the full sha256.
import Foundation

/// What the store knows about one catalog model's file.
public enum StoredModelState: Sendable, Equatable {
    /// Present and consistent with its verified stamp.
    case verified
    /// No file, or no stamp (never verified): fetch it.
    case absent
    /// The file differs from what was verified; `detail` says how. Refetch it.
    case corrupt(detail: String)
}

/// The verification stamp `<name>.gguf.sha256`: "SHA256 SIZE [MTIME_NS FINGERPRINT]".
struct ModelStamp: Equatable {
    var sha256: String
    var size: Int
    var modificationNanoseconds: Int64?
    var fingerprint: String?

    init(sha256: String, size: Int, modificationNanoseconds: Int64?, fingerprint: String?) {
        self.sha256 = sha256
        self.size = size
        self.modificationNanoseconds = modificationNanoseconds
        self.fingerprint = fingerprint
    }

    init?(text: String) {
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count >= 2, let size = Int(fields[1]) else { return nil }
        sha256 = fields[0]
        self.size = size
        modificationNanoseconds = fields.count >= 4 ? Int64(fields[2]) : nil
        fingerprint = fields.count >= 4 ? fields[3] : nil
    }

    var text: String {
        guard let modificationNanoseconds, let fingerprint else { return "\(sha256) \(size)\n" }
        return "\(sha256) \(size) \(modificationNanoseconds) \(fingerprint)\n"
    }
}

extension ModelStore {
    /// Samples hashed by the fingerprint, and their length.
    static let fingerprintSamples = 64, fingerprintSampleBytes = 16 << 10

    /// The cheap check run on every use of `model` (see the file comment).
    public func state(of model: CatalogModel) -> StoredModelState {
        let path = path(of: model)
        guard let (size, mtime) = Self.sizeAndModification(path),
              let text = try? String(contentsOfFile: path + ".sha256", encoding: .utf8),
              let stamp = ModelStamp(text: text), stamp.sha256 == model.sha256 else { return .absent }
        guard size == model.byteCount, size == stamp.size else {
            return .corrupt(detail: "\(size) bytes, expected \(model.byteCount)")
        }
        if let recorded = stamp.fingerprint {
            guard let now = try? Self.fingerprint(path, size: size), now == recorded else {
                return .corrupt(detail: "sampled fingerprint differs from the one recorded when the file was verified")
            }
            if stamp.modificationNanoseconds == mtime { return .verified }
        }
        // Modified since it was verified (or a stamp from before fingerprints): check it all.
        switch verify(model) {
        case .verified:
            try? stamped(model, size: size).text.write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
            return .verified
        case let other: return other
        }
    }

    /// The full check: the whole file's sha256 against the catalog's.
    public func verify(_ model: CatalogModel) -> StoredModelState {
        let path = path(of: model)
        guard let (size, _) = Self.sizeAndModification(path) else { return .absent }
        guard size == model.byteCount else { return .corrupt(detail: "\(size) bytes, expected \(model.byteCount)") }
        guard let digest = try? SHA256.hexDigest(ofFile: path) else { return .corrupt(detail: "unreadable") }
        guard digest == model.sha256 else { return .corrupt(detail: "sha256 \(digest), expected \(model.sha256)") }
        return .verified
    }

    /// The stamp of a file whose full sha256 was just verified.
    func stamped(_ model: CatalogModel, size: Int) -> ModelStamp {
        let path = path(of: model)
        return ModelStamp(sha256: model.sha256, size: size, modificationNanoseconds: Self.sizeAndModification(path)?.1,
                          fingerprint: try? Self.fingerprint(path, size: size))
    }

    /// Size and modification time (ns since 1970) of a regular file.
    static func sizeAndModification(_ path: String) -> (Int, Int64)? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return (Int(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    /// sha256 of the size and of `fingerprintSamples` evenly spaced samples (the whole file when smaller).
    static func fingerprint(_ path: String, size: Int) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CocoaError(.fileReadNoSuchFile) }
        defer { close(fd) }
        var hasher = SHA256()
        Array("\(size)".utf8).withUnsafeBytes { hasher.update($0) }
        let length = min(fingerprintSampleBytes, size)
        var buffer = [UInt8](repeating: 0, count: length)
        let count = size <= fingerprintSamples * fingerprintSampleBytes ? 1 : fingerprintSamples
        for i in 0..<count {
            let offset = count == 1 ? 0 : (size - length) / (count - 1) * i
            let n = count == 1 ? size : length
            if n > buffer.count { buffer = [UInt8](repeating: 0, count: n) }
            let read = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, n, off_t(offset)) }
            guard read == n else { throw CocoaError(.fileReadUnknown) }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hasher.finalizeHex()
    }
}
