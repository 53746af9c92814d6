import CKernels
@testable import Kernels
import Testing

// The C fp32-activation row dots (Sources/CKernels/f32_avx512.c) against the Swift `decodeDot`
// they stand in for: bit-for-bit on random rows, since exact latent rollouts (and answers
// recorded with them) depend on every rounding.

@Suite("fp32-activation row dots: the C kernels equal the Swift ones bit for bit")
struct FloatDotKernelTests {
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
        let blockBytes = type == .q8_0 ? 34 : 22
        var bytes = (0..<(blocks * blockBytes)).map { _ in UInt8(truncatingIfNeeded: next()) }
        let magnitudes: [Float] = [1e-6, 3e-3, 0.05, 1, 40]
        for b in 0..<blocks {
            let scale = magnitudes[Int(next() % 5)] * (next() % 2 == 0 ? 1 : -1) * Float(next() % 1000 + 1) / 1000
            let bits = Half.f16Bits(from: scale)
            bytes[b * blockBytes] = UInt8(bits & 0xFF)
            bytes[b * blockBytes + 1] = UInt8(bits >> 8)
        }
        let x = (0..<(blocks * 32)).map { _ in
            magnitudes[Int(next() % 5)] * (Float(next() % 2_000_001) / 1_000_000 - 1)
        }
        return (bytes, x)
    }

    @Test("q8_0 and q5_0 rows of 1 to 152 blocks", arguments: [GGMLType.q8_0, .q5_0])
    func equalsSwift(type: GGMLType) throws {
        let id = Int32(type.rawValue)
        guard rmas_dot_f32_supported(id) != 0 else {
            #expect(rmas_dot_f32(id, 32, [UInt8](repeating: 0, count: 34), [Float](repeating: 0, count: 32)).isNaN)
            return  // no AVX-512 here: the Swift kernel runs, nothing to compare
        }
        for (i, blocks) in [1, 2, 3, 7, 28, 29, 152].enumerated() {
            let (bytes, x) = Self.row(type, blocks: blocks, seed: UInt64(i + 1))
            let c = bytes.withUnsafeBytes { w in x.withUnsafeBufferPointer { rmas_dot_f32(id, Int32(blocks * 32), w.baseAddress!, $0.baseAddress!) } }
            let swift = bytes.withUnsafeBytes { w in
                x.withUnsafeBufferPointer { xs in
                    type == .q8_0 ? Q8_0.decodeDot(w.baseAddress!, xs.baseAddress!, count: blocks * 32)
                                  : Q5_0.decodeDot(w.baseAddress!, xs.baseAddress!, count: blocks * 32)
                }
            }
            #expect(c.bitPattern == swift.bitPattern, "\(type) × \(blocks) blocks: C \(c), Swift \(swift)")
            #expect(swift.isFinite && swift != 0, "the row must exercise real values")
        }
    }
}
