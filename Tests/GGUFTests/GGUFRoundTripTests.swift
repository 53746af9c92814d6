import GGUF
import Kernels
import Testing

@Suite("GGUF write → read round trips")
struct GGUFRoundTripTests {
    static func sampleMetadata() -> [(String, GGUFValue)] {
        [
            ("general.architecture", .string("llama")),
            ("u8", .uint8(200)), ("i8", .int8(-5)), ("u16", .uint16(65000)), ("i16", .int16(-32000)),
            ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)),
            ("u64", .uint64(.max)), ("i64", .int64(.min)),
            ("f32", .float32(3.25)), ("f64", .float64(-1e300)), ("yes", .bool(true)), ("no", .bool(false)),
            ("unicode", .string("héllo ✓ 日本 🧑‍🤝‍🧑")), ("empty", .string("")),
            ("strings", .array(.string(["a", "", "ü", "<|im_start|>"]))),
            ("floats", .array(.float32([1, -2.5, .infinity]))),
            ("ints", .array(.int32([1, -2, 3]))),
            ("bools", .array(.bool([true, false]))),
            ("empty.array", .array(.uint8([]))),
            ("nested", .array(.array([.int64([1, 2]), .int64([]), .int64([3])]))),
            ("nested.strings", .array(.array([.string(["x"]), .string(["y", "z"])]))),
        ]
    }

    @Test func metadataAndTensorsSurvive() throws {
        var writer = GGUFWriter()
        for (k, v) in Self.sampleMetadata() {
            let added = writer.set(k, v)
            #expect(added)
        }
        let repeated = writer.set("u8", .uint8(1))
        #expect(!repeated, "a repeated key is refused")
        let q8 = (0..<(2 * 34)).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        writer.addTensor(name: "blk.0.w", dimensions: [32, 2], type: .q8_0, bytes: q8)
        writer.addTensor(name: "norm", dimensions: [3], values: [1, 2, 3])
        writer.addTensor(name: "empty", dimensions: [0, 4], values: [])
        let file = try GGUFFile(bytes: writer.serialized())

        #expect(file.version == 3)
        #expect(file.metadata == writer.metadata)
        #expect(file.metadata.keys == Self.sampleMetadata().map(\.0))
        #expect(file.metadata.stringArray("strings") == ["a", "", "ü", "<|im_start|>"])
        #expect(file.metadata.integer("u64") == nil, "UInt64.max does not fit Int")
        #expect(file.metadata.integer("i32") == -2_000_000_000)
        #expect(file.metadata.string("u8") == nil, "typed accessors return nil on a type mismatch")
        #expect(file.tensors.map(\.name) == ["blk.0.w", "norm", "empty"])

        let w = try #require(file.tensor(named: "blk.0.w"))
        #expect(w.dimensions == [32, 2] && w.type == .q8_0 && w.byteCount == 68)
        #expect(w.rowLength == 32 && w.rowCount == 2)
        #expect(Array(file.bytes(of: w)) == q8)
        #expect(w.fileOffset % 32 == 0)
        let norm = try #require(file.tensor(named: "norm"))
        #expect(Array(file.bytes(of: norm)) == [0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64])
        #expect(file.tensor(named: "empty")?.byteCount == 0)
    }

    @Test func customAlignmentIsHonoured() throws {
        var writer = GGUFWriter(alignment: 64)
        writer.addTensor(name: "a", dimensions: [3], values: [1, 2, 3])
        writer.addTensor(name: "b", dimensions: [5], values: [1, 2, 3, 4, 5])
        let file = try GGUFFile(bytes: writer.serialized())
        #expect(file.alignment == 64)
        #expect(file.tensors.allSatisfy { $0.fileOffset % 64 == 0 })
        #expect(file.tensor(named: "b")?.offset == 64)
    }

    @Test func atomicWriteToDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-roundtrip-\(getpid()).gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var writer = GGUFWriter()
        writer.set("k", .string("v1"))
        try writer.write(to: path)
        var second = GGUFWriter()
        second.set("k", .string("v2"))
        try second.write(to: path)  // replaces atomically
        #expect(try GGUFFile(path: path).metadata.string("k") == "v2")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
            .filter { $0.contains("rmas-roundtrip-\(getpid()).gguf.tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func missingFileIsATypedError() {
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
        #expect(throws: GGUFError.cannotOpen(path: "/tmp", reason: "not a regular file")) { try GGUFFile(path: "/tmp") }
    }
}

import Foundation
