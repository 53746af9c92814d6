import Kernels
import Testing

@Suite("f16 / bf16 conversions")
struct HalfTests {
    @Test("f16 → f32 is exact for all 65536 patterns, NaN payloads kept")
    func f16Widening() {
        for bits in 0 ... UInt16.max {
            let got = Half.float(fromF16: bits)
            let hardware = Float(Float16(bitPattern: bits))
            if hardware.isNaN {
                // numpy's npy_halfbits_to_floatbits: sign | all-ones exponent | mantissa << 13.
                let expected = UInt32(bits & 0x8000) << 16 | 0x7F80_0000 | UInt32(bits & 0x03FF) << 13
                #expect(got.bitPattern == expected, "0x\(String(bits, radix: 16))")
            } else {
                #expect(got.bitPattern == hardware.bitPattern, "0x\(String(bits, radix: 16))")
            }
        }
    }

    @Test("16-lane f16 and bf16 widening equal the scalar ones for all patterns")
    func simdWidening() {
        for first in stride(from: 0, to: 65536, by: 16) {
            var lanes = SIMD16<UInt16>()
            for i in 0 ..< 16 { lanes[i] = UInt16(first + i) }
            let half = Half.float(fromF16: lanes), brain = Half.float(fromBF16: lanes)
            for i in 0 ..< 16 {
                #expect(half[i].bitPattern == Half.float(fromF16: lanes[i]).bitPattern)
                #expect(brain[i].bitPattern == Half.float(fromBF16: lanes[i]).bitPattern)
            }
        }
    }

    @Test("f32 → f16 → f32 round-trips every non-NaN f16")
    func f16RoundTrip() {
        for bits in 0 ... UInt16.max where !Float16(bitPattern: bits).isNaN {
            #expect(Half.f16Bits(from: Half.float(fromF16: bits)) == bits)
        }
        #expect(Half.f16Bits(from: 1 + 0x1p-11) == 0x3C00)  // tie → even
        #expect(Half.f16Bits(from: 1 + 3 * 0x1p-11) == 0x3C02)  // tie → even (up)
        #expect(Half.f16Bits(from: 65520) == 0x7C00)  // rounds to +Inf
    }

    @Test("bf16 round-trips and rounds to nearest even")
    func bf16() {
        for bits in 0 ... UInt16.max where !Half.float(fromBF16: bits).isNaN {
            #expect(Half.bf16Bits(from: Half.float(fromBF16: bits)) == bits)
        }
        #expect(Half.float(fromBF16: 0x3F80) == 1)
        #expect(Half.bf16Bits(from: Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie → even (down)
        #expect(Half.bf16Bits(from: Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie → even (up)
        #expect(Half.bf16Bits(from: Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(Half.bf16Bits(from: Float(bitPattern: 0x7F80_0001)) == 0x7FC0)  // sNaN made quiet
        #expect(Half.bf16Bits(from: -.infinity) == 0xFF80)
    }
}
