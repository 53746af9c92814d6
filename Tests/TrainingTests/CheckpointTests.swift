import Foundation
import Testing
import Training

@Suite("Safetensors and checkpoints")
struct CheckpointTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/reference.safetensors")

    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-ckpt-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("reads a file written by the safetensors reference (F32, F16, BF16, metadata)")
    func readsReference() throws {
        let file = try SafeTensors(data: Data(contentsOf: Self.fixture))
        #expect(try file.tensor("a.weight", shape: [2, 3]) == [1, -2, 3.5, 0.25, -0, 1e-3])
        #expect(try file.tensor("b.bias", shape: [3]) == [1, -0.5, 65504])
        #expect(try file.tensor("c", shape: [2]) == [1.5, -3])
        #expect(file.metadata == ["format": "pt"])
        #expect(throws: SafeTensorsError.shapeMismatch(tensor: "c", expected: [1, 2], found: [2])) { try file.tensor("c", shape: [1, 2]) }
    }

    @Test("round trip in each dtype", arguments: [SafeTensors.DType.f32, .f16, .bf16])
    func roundTrip(_ dtype: SafeTensors.DType) throws {
        var file = SafeTensors()
        file.tensors["w"] = .init(shape: [2, 2], values: [1, -2, 0.5, 4])  // exact in every dtype
        file.tensors["b"] = .init(shape: [3], values: [0, 0.25, -8])
        file.metadata = ["k": "v"]
        let data = file.serialized(as: dtype)
        let header = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(header % 8 == 0)
        let back = try SafeTensors(data: data)
        #expect(back.tensors == file.tensors)
        #expect(back.metadata == file.metadata)
    }

    @Test("every truncation and a bad extent give typed errors")
    func corruptFiles() throws {
        let good = try Data(contentsOf: Self.fixture)
        for n in stride(from: 0, to: good.count, by: 7) {
            #expect(throws: SafeTensorsError.self) { try SafeTensors(data: good.prefix(n)) }
        }
        var wrong = SafeTensors()
        wrong.tensors["x"] = .init(shape: [2], values: [1, 2])
        let text = String(decoding: wrong.serialized(), as: UTF8.self).replacingOccurrences(of: "[0,8]", with: "[0,12]")
        #expect(throws: SafeTensorsError.self) { try SafeTensors(data: Data(text.utf8)) }
    }

    @Test("checkpoint save/load round trip, stale files removed, restore checks names and shapes")
    func checkpointRoundTrip() throws {
        let store = CheckpointStore(directory: Self.temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: store.directory) }
        let parameters = try ParameterSet([Parameter(name: "inner.proj1.weight", shape: [2, 3], values: [1, 2, 3, 4, 5, 6]),
                                           Parameter(name: "inner.proj1.bias", shape: [2], values: [0.5, -0.5])])
        let state = AdamWState(step: 7, moments: parameters.map { .init(name: $0.name, first: $0.values.map { $0 / 10 }, second: $0.values.map { $0 * $0 }) })
        for step in [10, 20] {
            let manifest = CheckpointManifest(kind: "inner", step: step, links: [.init(name: "inner", kind: "ln_res_adapter", inputWidth: 3, outputWidth: 2)],
                                              models: [.init(role: "planner", name: "tiny", sha256: "abc")], arguments: ["lr": "5e-4"],
                                              resume: ["cursor": 3], metrics: ["loss": 0.25])
            try store.save(manifest, parameters: parameters, optimizer: state)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: store.directory.path).sorted()
        #expect(files == ["manifest.json", "optimizer-00000020.safetensors", "weights-00000020.safetensors"])
        let (manifest, weights, optimizer) = try store.load()
        #expect(manifest.step == 20 && manifest.resume == ["cursor": 3] && manifest.links.first?.kind == "ln_res_adapter")
        #expect(optimizer?.step == 7)
        #expect((optimizer?.moments ?? []).sorted { $0.name < $1.name } == state.moments.sorted { $0.name < $1.name })
        let fresh = try ParameterSet([Parameter(name: "inner.proj1.weight", shape: [2, 3]), Parameter(name: "inner.proj1.bias", shape: [2])])
        try CheckpointStore.restore(fresh, from: weights)
        #expect(fresh.map(\.values) == parameters.map(\.values))
        let wrongShape = try ParameterSet([Parameter(name: "inner.proj1.weight", shape: [3, 2])])
        #expect(throws: CheckpointError.self) { try CheckpointStore.restore(wrongShape, from: weights) }
    }

    @Test("compact export: fp16 weights, no optimizer state, restores within fp16 rounding")
    func compactExport() throws {
        let root = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let source = CheckpointStore(directory: root.appendingPathComponent("full"))
        let values: [Float] = [0.1, -2.5, 3.14159, 1e-3, 65000, -7e-5]
        let parameters = try ParameterSet([Parameter(name: "l.w", shape: [2, 3], values: values)])
        let state = AdamWState(step: 3, moments: [.init(name: "l.w", first: values, second: values)])
        try source.save(CheckpointManifest(kind: "outer", step: 9, links: [], models: [], resume: ["step": 9]), parameters: parameters,
                        optimizer: state)
        let compact = CheckpointStore(directory: root.appendingPathComponent("compact"))
        let bytes = try source.exportCompact(to: compact)
        let files = try FileManager.default.contentsOfDirectory(atPath: compact.directory.path).sorted()
        #expect(files == ["manifest.json", "weights-00000009.safetensors"])
        let (manifest, weights, optimizer) = try compact.load()
        #expect(optimizer == nil && manifest.step == 9 && manifest.resume.isEmpty && manifest.kind == "outer")
        let restored = try ParameterSet([Parameter(name: "l.w", shape: [2, 3])])
        try CheckpointStore.restore(restored, from: weights)
        for (a, b) in zip(restored[0].values, values) { #expect(abs(a - b) <= abs(b) * 1e-3) }
        #expect(restored[0].values != values, "fp16 rounding happened, so the export really is compact")
        #expect(bytes < 400 + 6 * 2 + 2000)
    }
}

@Suite("Manifest key style")
struct ManifestKeyStyleTests {
    @Test("manifests are written with snake_case keys; camelCase manifests written before still load")
    func keyStyle() throws {
        let manifest = CheckpointManifest(kind: "outer", step: 3, links: [.init(name: "a_to_b", kind: "k", inputWidth: 4, outputWidth: 8)],
                                          models: [.init(role: "a", name: "m", sha256: "s")], metrics: ["held_out_loss": 1.5])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(manifest), as: UTF8.self)
        #expect(text.contains("\"format_version\":1") && text.contains("\"weights_file\"") && text.contains("\"input_width\":4"))
        #expect(!text.contains("formatVersion") && !text.contains("inputWidth") && text.contains("\"held_out_loss\":1.5"))
        let old = #"""
            {"formatVersion": 1, "kind": "outer", "step": 3, "links": [{"name": "a_to_b", "kind": "k", "inputWidth": 4, "outputWidth": 8}],
             "models": [{"role": "a", "name": "m", "sha256": "s"}], "arguments": {}, "resume": {}, "metrics": {"held_out_loss": 1.5},
             "weightsFile": "weights-00000003.safetensors"}
            """#
        #expect(try JSONDecoder().decode(CheckpointManifest.self, from: Data(old.utf8)) == manifest)
    }
}
