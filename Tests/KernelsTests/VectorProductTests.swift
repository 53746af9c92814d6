import Foundation
import Kernels
import Testing

/// Several activation vectors against one matrix (batched decode) give, for each vector, exactly
/// the single-vector product, for every weight type, vector count and row count.
@Suite("Several-vector products equal single-vector ones")
struct VectorProductTests {
    static let floatTypes: [GGMLType] = [.f32, .f16, .q8_0, .q5_0, .q4_1, .q4_K, .q6_K]

    /// Narrow rows (11 blocks: the eight-block pass and a remainder pair and single), and rows
    /// wider than the offset terms the several-vector kernels compute once per call (259 blocks).
    @Test("8-bit activations: each vector's result is the single-vector kernel's, bit for bit", arguments: q8WeightTypes, [false, true])
    func quantized(type: GGMLType, wide: Bool) throws {
        let columns = type.blockSize == 256 ? (wide ? 256 * 33 : 512) : 32 * (wide ? 259 : 11)
        for rows in [1, 5, 37] {
            let bytes = q8TestMatrixBytes(type, rows: rows, columns: columns, seed: 90 + UInt64(rows))
            try bytes.withUnsafeBytes { raw in
                let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: rows, columns: columns)
                for vectors in [1, 2, 3, 4, 5, 9] {
                    let per = matrix.quantizedActivationByteCount
                    var scratch = [UInt8](repeating: 0, count: per * vectors)
                    for v in 0..<vectors {
                        let x = randomActivations(columns, seed: 200 + UInt64(v))
                        x.withUnsafeBufferPointer { xs in
                            scratch.withUnsafeMutableBytes { matrix.quantizeActivations(xs, into: UnsafeMutableRawBufferPointer(rebasing: $0[(v * per)..<((v + 1) * per)])) }
                        }
                    }
                    let single: [[Float]] = (0..<vectors).map { v in
                        var y = [Float](repeating: .nan, count: rows)
                        scratch.withUnsafeBytes { all in
                            y.withUnsafeMutableBufferPointer {
                                matrix.matvecQuantized(activations: UnsafeRawBufferPointer(rebasing: all[(v * per)..<((v + 1) * per)]), y: $0, threads: 1)
                            }
                        }
                        return y
                    }
                    for threads in [1, 2] {
                        var out = [[Float]](repeating: [Float](repeating: .nan, count: rows + 1), count: vectors)
                        let pointers = out.indices.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: rows + 1) }
                        defer { pointers.forEach { $0.deallocate() } }
                        pointers.forEach { $0.update(repeating: .nan, count: rows + 1) }
                        scratch.withUnsafeBytes { all in
                            matrix.matvecQuantized(activations: (0..<vectors).map { all.baseAddress! + $0 * per }, outputs: pointers, threads: threads)
                        }
                        for v in 0..<vectors { out[v] = Array(UnsafeBufferPointer(start: pointers[v], count: rows + 1)) }
                        for v in 0..<vectors {
                            #expect(out[v][..<rows].map(\.bitPattern) == single[v].map(\.bitPattern), "\(type) rows \(rows) vectors \(vectors) v \(v)")
                            #expect(out[v][rows].isNaN, "wrote past the rows")
                        }
                    }
                }
            }
        }
    }

    @Test("float activations: each vector's result is matvec's, bit for bit", arguments: floatTypes)
    func float(type: GGMLType) throws {
        let columns = 512, rows = 19
        let bytes = type == .f32 || type == .f16 ? randomMatrixBytes(type, rows: rows, columns: columns, seed: 5)
            : q8TestMatrixBytes(type, rows: rows, columns: columns, seed: 5)
        try bytes.withUnsafeBytes { raw in
            let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: rows, columns: columns)
            // Up to 8 vectors (4: q4_1, q4_K, q6_K) share each decoded row on AVX-512; 11 takes several groups.
            for count in [2, 6, 8, 11] {
                let xs = (0..<count).map { randomActivations(columns, seed: 300 + UInt64($0)) }
                let single = xs.map { x in
                    var y = [Float](repeating: 0, count: rows)
                    x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { matrix.matvec(x: xb, y: $0, threads: 1) } }
                    return y
                }
                let inputs = xs.map { x -> UnsafeMutablePointer<Float> in
                    let p = UnsafeMutablePointer<Float>.allocate(capacity: columns)
                    p.update(from: x, count: columns)
                    return p
                }
                let outputs = xs.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: rows) }
                defer { (inputs + outputs).forEach { $0.deallocate() } }
                matrix.matvec(vectors: inputs.map { UnsafePointer($0) }, outputs: outputs, threads: 2)
                for v in xs.indices {
                    #expect(Array(UnsafeBufferPointer(start: outputs[v], count: rows)).map(\.bitPattern) == single[v].map(\.bitPattern),
                            "\(type) \(count) vectors: v \(v)")
                }
            }
        }
    }
}
