import CKernels
import Foundation
@testable import Kernels
import Testing

/// The tiled 8-bit products: every tileable format's repacking against the reference decode
/// (through the products), the AVX-512 kernel bit for bit equal to the portable C, and each
/// vector's result independent of the batch it runs in and of the thread count.
@Suite("Tiled 8-bit decode products")
struct TiledInt8Tests {
    static let types: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    /// Quantized activations of `vectors` random inputs (the second with a few large outliers).
    static func activations(columns: Int, count: Int) -> [[UInt8]] {
        (0..<count).map { v in
            var x = randomActivations(columns, seed: 70 + UInt64(v))
            if v % 2 == 1 { for i in stride(from: 0, to: columns, by: 97) { x[i] *= 9 } }
            var out = [UInt8](repeating: 0, count: rmas_tiled_activation_bytes(Int64(columns)))
            let status = out.withUnsafeMutableBytes { rmas_tiled_quantize(x, Int64(columns), $0.baseAddress!) }
            #expect(status == 0)
            return out
        }
    }

    /// Runs tiles 0 ..< all on level `isa` for the given vectors.
    static func run(isa: Int32, type: GGMLType, tiles: UnsafeRawPointer, rows: Int, columns: Int, xq: [[UInt8]]) -> [[Float]] {
        var y = [[Float]](repeating: [Float](repeating: .nan, count: rows), count: xq.count)
        let inputs = xq.map { bytes -> UnsafeMutableRawPointer in
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
            p.copyMemory(from: bytes, byteCount: bytes.count)
            return p
        }
        defer { inputs.forEach { $0.deallocate() } }
        do {
            let outs = (0..<y.count).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: rows) }
            defer { outs.forEach { $0.deallocate() } }
            inputs.map { Optional(UnsafeRawPointer($0)) }.withUnsafeBufferPointer { xp in
                outs.map { Optional($0) }.withUnsafeBufferPointer { op in
                    rmas_tiled_rows_isa(isa, Int32(columns), rmas_tiled_layout(Int32(type.rawValue)), tiles, Int64(rows),
                                        xp.baseAddress, op.baseAddress, Int32(xq.count), 0, Int64((rows + 15) / 16))
                }
            }
            for v in y.indices { y[v] = Array(UnsafeBufferPointer(start: outs[v], count: rows)) }
        }
        return y
    }

    @Test("products equal the dequantized weights times the dequantized activations", arguments: types)
    func matchesReference(type: GGMLType) throws {
        let rows = 37, columns = type.blockSize == 256 ? 256 * 3 : 32 * 19
        let bytes = q8TestMatrixBytes(type, rows: rows, columns: columns, seed: 300 + UInt64(type.rawValue))
        let xq = Self.activations(columns: columns, count: 3)
        try bytes.withUnsafeBytes { raw in
            let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: rows, columns: columns)
            let tiled = try #require(TiledInt8Matrix(matrix, threads: 2))
            let w = referenceDequantize(type, bytes: raw, rows: rows, columns: columns)
            let y = Self.run(isa: rmas_isa_best(), type: type, tiles: UnsafeRawPointer(tiled.storage), rows: rows,
                             columns: columns, xq: xq)
            for (v, x) in xq.enumerated() {
                let d = x.withUnsafeBytes { Array($0.bindMemory(to: Float.self)[(columns / 4)..<(columns / 4 + columns / 32)]) }
                for r in 0..<rows {
                    var exact = 0.0, magnitude = 0.0
                    for c in 0..<columns {
                        let term = Double(w[r * columns + c]) * Double(d[c / 32]) * Double(Int(x[c]) - 128)
                        exact += term
                        magnitude += abs(term)
                    }
                    guard exact.isFinite else { continue }
                    #expect(abs(Double(y[v][r]) - exact) <= 1e-5 * magnitude + 1e-30, "\(type) vector \(v) row \(r): \(y[v][r]) vs \(exact)")
                }
            }
        }
    }

    @Test("AVX-512 equals the portable C bit for bit; a vector's result does not depend on its batch", arguments: types)
    func bitIdentical(type: GGMLType) throws {
        let rows = 50, columns = type.blockSize == 256 ? 512 : 32 * 9
        let bytes = q8TestMatrixBytes(type, rows: rows, columns: columns, seed: 500 + UInt64(type.rawValue))
        let xq = Self.activations(columns: columns, count: 11)
        try bytes.withUnsafeBytes { raw in
            let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: rows, columns: columns)
            let tiled = try #require(TiledInt8Matrix(matrix, threads: 1))
            let tiles = UnsafeRawPointer(tiled.storage)
            let portable = Self.run(isa: Int32(RMAS_ISA_SCALAR), type: type, tiles: tiles, rows: rows, columns: columns, xq: xq)
            var levels = [Int32(RMAS_ISA_SCALAR)]
            if rmas_isa_supported(Int32(RMAS_ISA_AVX512VNNI)) != 0 { levels.append(Int32(RMAS_ISA_AVX512VNNI)) }
            for isa in levels {
                let all = Self.run(isa: isa, type: type, tiles: tiles, rows: rows, columns: columns, xq: xq)
                #expect(all.map { $0.map(\.bitPattern) } == portable.map { $0.map(\.bitPattern) }, "\(type) level \(isa), 11 vectors")
                for v in [0, 5, 10] {
                    let alone = Self.run(isa: isa, type: type, tiles: tiles, rows: rows, columns: columns, xq: [xq[v]])
                    #expect(alone[0].map(\.bitPattern) == portable[v].map(\.bitPattern), "\(type) level \(isa), vector \(v) alone")
                }
            }
            // Through the helper threads (1 and 2), from float inputs.
            let x = (0..<3).map { randomActivations(columns, seed: 90 + UInt64($0)) }
            var results: [[[Float]]] = []
            for threads in [1, 2] {
                var y = [[Float]](repeating: [Float](repeating: 0, count: rows), count: 3)
                let outs = (0..<3).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: rows) }
                defer { outs.forEach { $0.deallocate() } }
                x.withUnsafeBufferPointers { inputs in tiled.matvec(vectors: inputs, outputs: outs, threads: threads) }
                for v in 0..<3 { y[v] = Array(UnsafeBufferPointer(start: outs[v], count: rows)) }
                results.append(y)
            }
            #expect(results[0].map { $0.map(\.bitPattern) } == results[1].map { $0.map(\.bitPattern) }, "\(type): 1 vs 2 threads")
        }
    }

    @Test("formats without a tiled layout are refused")
    func refusesOthers() throws {
        let bytes = [UInt8](repeating: 0, count: 2 * 32 * 2)
        try bytes.withUnsafeBytes { raw in
            let matrix = try QuantizedMatrix(bytes: raw, type: .f16, rows: 2, columns: 32)
            #expect(TiledInt8Matrix(matrix) == nil)
        }
        #expect(rmas_tiled_activation_bytes(33) == 0)
    }
}

extension Array where Element == [Float] {
    /// Calls `body` with a pointer to each inner array's floats.
    func withUnsafeBufferPointers<R>(_ body: ([UnsafePointer<Float>]) -> R) -> R {
        let copies = map { inner -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, inner.count))
            p.initialize(from: inner, count: inner.count)
            return p
        }
        defer { copies.forEach { $0.deallocate() } }
        return body(copies.map { UnsafePointer($0) })
    }
}
