import Foundation
import GGUF
import Kernels
import Testing

/// Tests/KernelsTests/Fixtures/quant_golden.gguf, written by Tools/golden/make_quant_golden.py
/// from gguf-py 0.19.0's numpy dequantizers: `NAME.raw` holds raw blocks and `NAME.dequant`
/// the F32 values gguf-py decodes them to.
struct QuantGolden {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/quant_golden.gguf").path

    let file: GGUFFile
    let raw: GGUFTensorInfo
    let expected: [Float]
    let rows: Int
    let columns: Int

    init(_ type: GGMLType) throws {
        file = try GGUFFile(path: Self.path)
        let raw = try #require(file.tensor(named: "\(type).raw"), "no \(type).raw in the golden file")
        let dequant = try #require(file.tensor(named: "\(type).dequant"))
        try #require(raw.type == type && dequant.type == .f32)
        try #require(raw.dimensions.count == 2 && raw.dimensions == dequant.dimensions)
        self.raw = raw
        columns = raw.dimensions[0]
        rows = raw.dimensions[1]
        let dequantBytes = file.bytes(of: dequant)
        try #require(dequantBytes.count == rows * columns * 4)
        expected = (0 ..< rows * columns).map {
            Float(bitPattern: UInt32(littleEndian: dequantBytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
        }
    }

    /// The raw blocks (valid while `file` is alive).
    var bytes: UnsafeRawBufferPointer { file.bytes(of: raw) }

    func matrix() throws -> QuantizedMatrix {
        try QuantizedMatrix(bytes: bytes, type: raw.type, rows: rows, columns: columns)
    }
}

@Suite("Dequantization vs gguf-py goldens")
struct QuantGoldenTests {
    @Test("golden file carries its provenance")
    func provenance() throws {
        let file = try GGUFFile(path: QuantGolden.path)
        #expect(file.metadata.string("golden.gguf_py_version") == "0.19.0")
        #expect(file.metadata.string("golden.numpy_version") == "2.4.6")
        #expect(file.metadata.integer("golden.seed") != nil)
        for type in supportedTypes {
            #expect(file.tensor(named: "\(type).raw") != nil, "golden lacks \(type)")
            #expect((file.metadata.integer("golden.\(type).edge_blocks") ?? 0) > 0)
        }
    }

    @Test("scalar reference is bit-exact with gguf-py", arguments: supportedTypes)
    func referenceMatchesGolden(type: GGMLType) throws {
        let golden = try QuantGolden(type)
        let got = referenceDequantize(type, bytes: golden.bytes, rows: golden.rows, columns: golden.columns)
        let mismatch = bitMismatches(got, golden.expected, blockSize: type.blockSize)
        #expect(mismatch == nil, "\(type): \(mismatch ?? "")")
    }

    @Test("vectorised row decode is bit-exact with gguf-py", arguments: supportedTypes)
    func vectorisedMatchesGolden(type: GGMLType) throws {
        let golden = try QuantGolden(type)
        let matrix = try golden.matrix()
        var got = [Float](repeating: .nan, count: golden.rows * golden.columns)
        got.withUnsafeMutableBufferPointer { out in
            for r in 0 ..< golden.rows {
                matrix.dequantizeRow(r, into: UnsafeMutableBufferPointer(rebasing: out[r * golden.columns ..< (r + 1) * golden.columns]))
            }
        }
        let mismatch = bitMismatches(got, golden.expected, blockSize: type.blockSize)
        #expect(mismatch == nil, "\(type): \(mismatch ?? "")")
    }

    @Test("vectorised row decode is bit-exact with the scalar reference on random rows", arguments: supportedTypes)
    func vectorisedMatchesReference(type: GGMLType) throws {
        // 3 rows of 4 super-blocks or 33 blocks; for the element formats 1043 = 64·16 + 16 + 3
        // columns, so the 64-wide loop, the 16-wide step and the scalar tail all run.
        let columns = type.blockSize == 1 ? 1043 : type.blockSize * (type.blockSize == 256 ? 4 : 33)
        let rows = 3
        let bytes = randomMatrixBytes(type, rows: rows, columns: columns, seed: 7 + UInt64(type.rawValue))
        try bytes.withUnsafeBytes { raw in
            let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: rows, columns: columns)
            let expected = referenceDequantize(type, bytes: raw, rows: rows, columns: columns)
            var got = [Float](repeating: .nan, count: rows * columns)
            got.withUnsafeMutableBufferPointer { out in
                for r in 0 ..< rows {
                    matrix.dequantizeRow(r, into: UnsafeMutableBufferPointer(rebasing: out[r * columns ..< (r + 1) * columns]))
                }
            }
            let mismatch = bitMismatches(got, expected, blockSize: type.blockSize)
            #expect(mismatch == nil, "\(type): \(mismatch ?? "")")
        }
    }
}
