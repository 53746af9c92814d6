import Kernels
import Synchronization
import Testing

@Suite("Format geometry and rejection of unsupported input")
struct QuantFormatTests {
    @Test("each kernel's block geometry equals GGMLType's", arguments: supportedTypes)
    func geometry(type: GGMLType) throws {
        let format = try #require(type.quantFormat)
        #expect(format.type == type)
        #expect(format.blockSize == type.blockSize)
        #expect(format.bytesPerBlock == type.bytesPerBlock)
        let matrix = try QuantizedMatrix(
            bytes: UnsafeRawBufferPointer(start: nil, count: 0), type: type, rows: 0, columns: type.blockSize * 3)
        #expect(matrix.rowBytes == 3 * type.bytesPerBlock)
        #expect(matrix.byteCount == 0)
    }

    @Test("ggml block byte sizes (ggml-common.h static_asserts)")
    func byteSizes() {
        // sizeof(block_*) as ggml-common.h asserts them: scale fields + packed quants.
        let expected: [GGMLType: Int] = [
            .f32: 4, .f16: 2, .bf16: 2,
            .q8_0: 2 + 32, .q4_0: 2 + 16, .q4_1: 2 + 2 + 16, .q5_0: 2 + 4 + 16, .q5_1: 2 + 2 + 4 + 16,
            .q4_K: 2 + 2 + 12 + 256 / 2, .q5_K: 2 + 2 + 12 + 256 / 8 + 256 / 2,
            .q6_K: 256 / 2 + 256 / 4 + 256 / 16 + 2,
        ]
        for type in supportedTypes {
            #expect(type.quantFormat?.bytesPerBlock == expected[type], "\(type)")
        }
        #expect(Set(expected.keys) == Set(supportedTypes))
    }

    @Test("types without kernels are rejected with a typed error, not a crash")
    func unsupportedRejected() {
        let bytes = [UInt8](repeating: 0, count: 4096)
        bytes.withUnsafeBytes { raw in
            for type in GGMLType.allCases where !type.isComputeSupported {
                #expect(type.quantFormat == nil)
                #expect(throws: QuantError.unsupportedType(type)) {
                    try QuantizedMatrix(bytes: raw, type: type, rows: 1, columns: type.blockSize)
                }
            }
        }
    }

    @Test("shapes that are not whole blocks, and short buffers, are rejected")
    func badShapes() {
        let bytes = [UInt8](repeating: 0, count: 1000)
        bytes.withUnsafeBytes { raw in
            #expect(throws: QuantError.invalidShape(type: .q4_K, rows: 1, columns: 128)) {
                try QuantizedMatrix(bytes: raw, type: .q4_K, rows: 1, columns: 128)
            }
            #expect(throws: QuantError.invalidShape(type: .q8_0, rows: -1, columns: 32)) {
                try QuantizedMatrix(bytes: raw, type: .q8_0, rows: -1, columns: 32)
            }
            #expect(throws: QuantError.invalidShape(type: .f32, rows: 1, columns: 0)) {
                try QuantizedMatrix(bytes: raw, type: .f32, rows: 1, columns: 0)
            }
            #expect(throws: QuantError.bufferTooSmall(needed: 30 * 34, available: 1000)) {
                try QuantizedMatrix(bytes: raw, type: .q8_0, rows: 30, columns: 32)
            }
            #expect(throws: QuantError.invalidShape(type: .q8_0, rows: Int.max / 2, columns: 64)) {
                try QuantizedMatrix(bytes: raw, type: .q8_0, rows: Int.max / 2, columns: 64)
            }
        }
    }

    @Test("Parallel chunks partition the range contiguously")
    func chunks() {
        for count in [1, 2, 3, 7, 33, 100] {
            for threads in [1, 2, 3, 8] {
                let seen = Mutex<[Range<Int>]>([])
                Parallel.forEachChunk(count: count, threads: threads) { range in
                    seen.withLock { $0.append(range) }
                }
                let ranges = seen.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
                #expect(ranges.count == min(count, threads))
                #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == count)
                for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
                #expect(ranges.allSatisfy { !$0.isEmpty })
            }
        }
    }
}
