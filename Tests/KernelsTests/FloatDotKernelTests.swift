import CKernels
@testable import Kernels
import Testing

// The C fp32-activation row dots (Sources/CKernels/f32_avx512.c) against the Swift `decodeDot`
// they stand in for: bit-for-bit on random rows, since exact latent rollouts (and answers
// recorded with them) depend on every rounding.

@Suite("fp32-activation row dots: the C kernels equal the Swift ones bit for bit")
struct FloatDotKernelTests {
    static let types: [GGMLType] = [.q8_0, .q5_0, .q4_1, .q4_K, .q6_K]

    /// Bytes and elements per block, and where its f16 scales are.
    static func layout(_ type: GGMLType) -> (bytes: Int, elements: Int, scales: [Int]) {
        switch type {
        case .q8_0: (34, 32, [0])
        case .q5_0: (22, 32, [0])
        case .q4_1: (20, 32, [0, 2])
        case .q4_K: (144, 256, [0, 2])
        default: (210, 256, [208])
        }
    }

    /// Random blocks with random f16 scales of both signs and several magnitudes (tiny to large),
    /// and activations of several magnitudes, for rows of `blocks` blocks.
    static func row(_ type: GGMLType, blocks: Int, seed: UInt64) -> (bytes: [UInt8], x: [Float]) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func next() -> UInt64 {
            state = state &+ 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let (blockBytes, elements, scales) = layout(type)
        var bytes = (0..<(blocks * blockBytes)).map { _ in UInt8(truncatingIfNeeded: next()) }
        let magnitudes: [Float] = [1e-6, 3e-3, 0.05, 1, 40]
        for b in 0..<blocks {
            for at in scales {
                let scale = magnitudes[Int(next() % 5)] * (next() % 2 == 0 ? 1 : -1) * Float(next() % 1000 + 1) / 1000
                let bits = Half.f16Bits(from: scale)
                bytes[b * blockBytes + at] = UInt8(bits & 0xFF)
                bytes[b * blockBytes + at + 1] = UInt8(bits >> 8)
            }
        }
        let x = (0..<(blocks * elements)).map { _ in
            magnitudes[Int(next() % 5)] * (Float(next() % 2_000_001) / 1_000_000 - 1)
        }
        return (bytes, x)
    }

    static func swiftDot(_ type: GGMLType, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        switch type {
        case .q8_0: Q8_0.decodeDot(w, x, count: count)
        case .q5_0: Q5_0.decodeDot(w, x, count: count)
        case .q4_1: Q4_1.decodeDot(w, x, count: count)
        case .q4_K: Q4_K.decodeDot(w, x, count: count)
        default: Q6_K.decodeDot(w, x, count: count)
        }
    }

    @Test("rows of 1 to 152 blocks (1 to 9 super-blocks)", arguments: types)
    func equalsSwift(type: GGMLType) throws {
        let id = Int32(type.rawValue), (blockBytes, elements, _) = Self.layout(type)
        guard rmas_dot_f32_supported(id) != 0 else {
            #expect(rmas_dot_f32(id, Int32(elements), [UInt8](repeating: 0, count: blockBytes), [Float](repeating: 0, count: elements)).isNaN)
            return  // no AVX-512 here: the Swift kernel runs, nothing to compare
        }
        let counts = elements == 32 ? [1, 2, 3, 7, 28, 29, 152] : [1, 2, 3, 4, 9]
        for (i, blocks) in counts.enumerated() {
            let (bytes, x) = Self.row(type, blocks: blocks, seed: UInt64(i + 1))
            let n = blocks * elements
            let c = bytes.withUnsafeBytes { w in x.withUnsafeBufferPointer { rmas_dot_f32(id, Int32(n), w.baseAddress!, $0.baseAddress!) } }
            let swift = bytes.withUnsafeBytes { w in x.withUnsafeBufferPointer { Self.swiftDot(type, w.baseAddress!, $0.baseAddress!, count: n) } }
            #expect(c.bitPattern == swift.bitPattern, "\(type) × \(blocks) blocks: C \(c), Swift \(swift)")
            #expect(swift.isFinite && swift != 0, "the row must exercise real values")
        }
    }

    @Test("several vectors: each row decoded once, every (row, vector) bit for bit rmas_dot_f32", arguments: types)
    func rowsEqualSingleDots(type: GGMLType) throws {
        let id = Int32(type.rawValue), rows = 5, (blockBytes, elements, _) = Self.layout(type)
        let blocks = elements == 32 ? 29 : 3, stride = blocks * blockBytes + 6  // rows need not be packed
        var w = [UInt8](repeating: 0, count: rows * stride)
        for r in 0..<rows {
            let (bytes, _) = Self.row(type, blocks: blocks, seed: 40 + UInt64(r))
            w.replaceSubrange((r * stride)..<(r * stride + bytes.count), with: bytes)
        }
        for vectors in [0, 1, 2, 3, 4, 5, 7, 8, 9, 17] {
            let xs = (0..<vectors).map { Self.row(type, blocks: blocks, seed: 90 + UInt64($0)).x }
            let xp = xs.map { x -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: x.count)
                p.initialize(from: x, count: x.count)
                return p
            }
            let yp = xs.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: rows + 1) }
            defer { (xp + yp).forEach { $0.deallocate() } }
            for y in yp { y.initialize(repeating: .nan, count: rows + 1) }
            // Rows 1 ..< 4 only: the others stay NaN.
            let status = w.withUnsafeBytes { wb in
                xp.map { Optional(UnsafePointer($0)) }.withUnsafeBufferPointer { xb in
                    yp.map { Optional($0) }.withUnsafeBufferPointer { yb in
                        rmas_dot_f32_rows(id, Int32(blocks * elements), wb.baseAddress!, stride, 1, 4, xb.baseAddress, yb.baseAddress,
                                          Int32(vectors))
                    }
                }
            }
            guard rmas_dot_f32_supported(id) != 0 else {
                #expect(status == -1)
                return
            }
            #expect(status == 0)
            for v in 0..<vectors {
                for r in 0..<(rows + 1) {
                    let got = yp[v][r]
                    guard (1..<4).contains(r) else {
                        #expect(got.isNaN, "row \(r) of vector \(v) written")
                        continue
                    }
                    let single = w.withUnsafeBytes { wb in rmas_dot_f32(id, Int32(blocks * elements), wb.baseAddress! + r * stride, xp[v]) }
                    #expect(got.bitPattern == single.bitPattern, "\(type) \(vectors) vectors: row \(r) vector \(v): \(got) vs \(single)")
                    #expect(single.isFinite && single != 0)
                }
            }
        }
    }
}
