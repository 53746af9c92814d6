// Checkpoint layout (this project's own): a directory holding `manifest.json` and the step files
// it names, `weights-<step>.safetensors` (link parameters) and `optimizer-<step>.safetensors`
// (AdamW moments). Step files are written first and the manifest last, each atomically, so the
// manifest always names a complete set; older step files are removed afterwards.
import Foundation

/// What a checkpoint says about itself (JSON, `manifest.json`).
public struct CheckpointManifest: Codable, Sendable, Equatable {
    /// One link network saved in the weights file under `<name>.` prefixed parameter names.
    public struct Link: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
        public var inputWidth: Int
        public var outputWidth: Int
        public init(name: String, kind: String, inputWidth: Int, outputWidth: Int) {
            self.name = name
            self.kind = kind
            self.inputWidth = inputWidth
            self.outputWidth = outputWidth
        }

        enum CodingKeys: String, CodingKey { case name, kind, inputWidth = "input_width", outputWidth = "output_width" }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: FlexibleKey.self)
            name = try c.decode(String.self, forKey: FlexibleKey("name"))
            kind = try c.decode(String.self, forKey: FlexibleKey("kind"))
            inputWidth = try c.decode(Int.self, "input_width", or: "inputWidth")
            outputWidth = try c.decode(Int.self, "output_width", or: "outputWidth")
        }
    }

    /// The frozen model a link belongs to (checked on load).
    public struct Model: Codable, Sendable, Equatable {
        public var role: String
        public var name: String
        public var sha256: String
        public init(role: String, name: String, sha256: String) {
            self.role = role
            self.name = name
            self.sha256 = sha256
        }
    }

    public var formatVersion = 1
    /// "inner" or "outer".
    public var kind: String
    public var step: Int
    public var links: [Link]
    public var models: [Model]
    /// The training command's arguments, as given.
    public var arguments: [String: String]
    /// State a resumed run needs beyond weights and moments (data order seed, cursor, …).
    public var resume: [String: Int]
    /// Last logged metrics (loss, held-out loss, …).
    public var metrics: [String: Double]
    public var weightsFile: String
    public var optimizerFile: String?

    public init(kind: String, step: Int, links: [Link], models: [Model], arguments: [String: String] = [:],
                resume: [String: Int] = [:], metrics: [String: Double] = [:]) {
        self.kind = kind
        self.step = step
        self.links = links
        self.models = models
        self.arguments = arguments
        self.resume = resume
        self.metrics = metrics
        weightsFile = String(format: "weights-%08d.safetensors", step)
        optimizerFile = nil
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", kind, step, links, models, arguments, resume, metrics
        case weightsFile = "weights_file", optimizerFile = "optimizer_file"
    }

    /// Reads snake_case keys, or the camelCase ones of manifests written before 2026-12-02.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: FlexibleKey.self)
        formatVersion = try c.decode(Int.self, "format_version", or: "formatVersion")
        kind = try c.decode(String.self, forKey: FlexibleKey("kind"))
        step = try c.decode(Int.self, forKey: FlexibleKey("step"))
        links = try c.decode([Link].self, forKey: FlexibleKey("links"))
        models = try c.decode([Model].self, forKey: FlexibleKey("models"))
        arguments = try c.decode([String: String].self, forKey: FlexibleKey("arguments"))
        resume = try c.decode([String: Int].self, forKey: FlexibleKey("resume"))
        metrics = try c.decode([String: Double].self, forKey: FlexibleKey("metrics"))
        weightsFile = try c.decode(String.self, "weights_file", or: "weightsFile")
        optimizerFile = try c.decodeIfPresent(String.self, "optimizer_file", or: "optimizerFile")
    }
}

/// Reads and writes checkpoints in one directory.
public struct CheckpointStore: Sendable {
    public let directory: URL
    public var manifestURL: URL { directory.appendingPathComponent("manifest.json") }

    public init(directory: URL) { self.directory = directory }

    /// Whether a manifest exists (a run can resume).
    public var exists: Bool { FileManager.default.fileExists(atPath: manifestURL.path) }

    /// Saves `parameters` (as `weightsType`) and, when given, the optimizer state (always F32).
    /// Either the whole new checkpoint lands (weights, moments, then the manifest that names them)
    /// or, when a write fails (disk full, permissions), the files this call wrote are removed and
    /// the previous checkpoint is left exactly as it was.
    public func save(
        _ manifest: CheckpointManifest, parameters: ParameterSet, optimizer: AdamWState?,
        weightsType: SafeTensors.DType = .f32
    ) throws(CheckpointError) {
        var manifest = manifest
        let previous = (try? self.manifest()).map { [$0.weightsFile, $0.optimizerFile].compactMap { $0 } } ?? []
        var written: [String] = []
        do throws(CheckpointError) {
            var weights = SafeTensors()
            for p in parameters { weights.tensors[p.name] = .init(shape: p.shape, values: p.values) }
            weights.metadata = ["format": "rmas-links", "step": "\(manifest.step)"]
            try AtomicFile.write(weights.serialized(as: weightsType), to: directory.appendingPathComponent(manifest.weightsFile))
            written.append(manifest.weightsFile)  // (a failed write removes its own temporary file)
            if let optimizer {
                var moments = SafeTensors()
                let shapes = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.shape) })
                for m in optimizer.moments {
                    let shape = shapes[m.name] ?? [m.first.count]
                    moments.tensors["\(m.name).exp_avg"] = .init(shape: shape, values: m.first)
                    moments.tensors["\(m.name).exp_avg_sq"] = .init(shape: shape, values: m.second)
                }
                moments.metadata = ["step": "\(optimizer.step)"]
                let name = String(format: "optimizer-%08d.safetensors", manifest.step)
                try AtomicFile.write(moments.serialized(), to: directory.appendingPathComponent(name))
                written.append(name)
                manifest.optimizerFile = name
            }
            try AtomicFile.write(try Self.encode(manifest, path: manifestURL.path), to: manifestURL)
        } catch {
            for name in written where !previous.contains(name) {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
            }
            throw error
        }
        removeStaleStepFiles(keeping: [manifest.weightsFile, manifest.optimizerFile].compactMap { $0 })
    }

    /// The manifest as pretty, sorted JSON (a non-finite number in it is an error naming the file).
    static func encode(_ manifest: CheckpointManifest, path: String) throws(CheckpointError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return try encoder.encode(manifest) } catch { throw .io(path: path, detail: "cannot encode the manifest: \(error)") }
    }

    /// Writes this checkpoint's weights to `destination` as `weightsType` (fp16 by default) without
    /// optimizer state: the compact form that ships with a system. Returns the bytes written.
    @discardableResult
    public func exportCompact(to destination: CheckpointStore, weightsType: SafeTensors.DType = .f16) throws(CheckpointError) -> Int {
        let (manifest, weights, _) = try load()
        var compact = manifest
        compact.optimizerFile = nil
        compact.resume = [:]
        var copy = weights
        copy.metadata["exported_from_step"] = "\(manifest.step)"
        let data = copy.serialized(as: weightsType)
        do {
            try FileManager.default.createDirectory(at: destination.directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: destination.directory.path, detail: "\(error)")
        }
        try AtomicFile.write(data, to: destination.directory.appendingPathComponent(compact.weightsFile))
        let json = try Self.encode(compact, path: destination.manifestURL.path)
        try AtomicFile.write(json, to: destination.manifestURL)
        destination.removeStaleStepFiles(keeping: [compact.weightsFile])
        return data.count + json.count
    }

    /// The weights file the manifest names (what a digest of the trained values should read).
    public func weightsURL() throws(CheckpointError) -> URL {
        directory.appendingPathComponent(try manifest().weightsFile).standardizedFileURL
    }

    /// The manifest alone (what was trained, on which models), checked for its format version.
    public func manifest() throws(CheckpointError) -> CheckpointManifest {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw .invalidManifest(path: directory.path, detail: "no such checkpoint directory")
        }
        guard isDirectory.boolValue else {
            throw .invalidManifest(path: directory.path, detail: "a file, not a checkpoint directory (manifest.json + weights-*.safetensors)")
        }
        guard let data = FileManager.default.contents(atPath: manifestURL.path) else {
            throw .invalidManifest(path: manifestURL.path, detail: "missing or unreadable: \(directory.path) is not a checkpoint directory")
        }
        let manifest: CheckpointManifest
        do {
            manifest = try JSONDecoder().decode(CheckpointManifest.self, from: data)
        } catch let error as DecodingError {
            throw .invalidManifest(path: manifestURL.path, detail: error.readableDescription)
        } catch {
            throw .invalidManifest(path: manifestURL.path, detail: error.localizedDescription)
        }
        guard manifest.formatVersion == 1 else {
            throw .invalidManifest(path: manifestURL.path, detail: "format version \(manifest.formatVersion) (this build reads 1)")
        }
        for name in [manifest.weightsFile, manifest.optimizerFile].compactMap({ $0 })
        where name.isEmpty || name.contains("/") || name.hasPrefix(".") {
            throw .invalidManifest(path: manifestURL.path, detail: "file name \"\(name)\" must name a file inside the checkpoint directory")
        }
        return manifest
    }

    /// The manifest, the weights and (if saved) the optimizer state.
    public func load() throws(CheckpointError) -> (manifest: CheckpointManifest, weights: SafeTensors, optimizer: AdamWState?) {
        let manifest = try manifest()
        let weights = try readTensors(manifest.weightsFile)
        var optimizer: AdamWState?
        if let file = manifest.optimizerFile {
            let moments = try readTensors(file)
            let names = Set(moments.tensors.keys.compactMap { $0.hasSuffix(".exp_avg") ? String($0.dropLast(8)) : nil })
            optimizer = AdamWState(step: Int(moments.metadata["step"] ?? "") ?? manifest.step, moments: names.sorted().map {
                .init(name: $0, first: moments.tensors["\($0).exp_avg"]?.values ?? [],
                      second: moments.tensors["\($0).exp_avg_sq"]?.values ?? [])
            })
        }
        return (manifest, weights, optimizer)
    }

    /// Copies saved values into `parameters`, requiring every one to be present with its shape and finite.
    public static func restore(_ parameters: ParameterSet, from weights: SafeTensors) throws(CheckpointError) {
        for p in parameters {
            let values: [Float]
            do {
                values = try weights.tensor(p.name, shape: p.shape)
            } catch {
                throw .mismatch(detail: "\(error)")
            }
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw .mismatch(detail: "tensor '\(p.name)' holds a non-finite value (\(values[i]) at element \(i))")
            }
            p.values = values
        }
    }

    private func readTensors(_ file: String) throws(CheckpointError) -> SafeTensors {
        let url = directory.appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .io(path: url.path, detail: "missing or unreadable (named by \(manifestURL.lastPathComponent))")
        }
        do { return try SafeTensors(data: data) } catch { throw .tensors(path: url.path, error) }
    }

    fileprivate func removeStaleStepFiles(keeping: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where (name.hasPrefix("weights-") || name.hasPrefix("optimizer-")) && !keeping.contains(name) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}
