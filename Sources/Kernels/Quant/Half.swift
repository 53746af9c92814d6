// Provenance: f16 widening matches numpy's npy_halfbits_to_floatbits (what gguf-py's
// `view(np.float16).astype(np.float32)` runs, NaN payloads kept); bf16 matches ggml's
// ggml_compute_bf16_to_fp32 / ggml_compute_fp32_to_bf16 (ggml-impl.h) and gguf-py quants.py BF16.

/// Conversions between 16-bit float encodings and `Float`.
///
/// f16 is IEEE binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
/// bf16 is the upper 16 bits of an IEEE binary32.
///
/// The widening conversions are exact for every bit pattern, NaNs included: a signalling NaN
/// keeps its payload (x86's `vcvtph2ps` would quieten it, numpy does not, and the golden
/// fixtures come from numpy). That is why f16 is widened with integer arithmetic here rather
/// than through `Float16`.
public enum Half {
    // Widening works on the f16 magnitude moved to the binary32 field positions
    // (`(h & 0x7FFF) << 13`); these constants are in those positions.
    @usableFromInline static let exponentMask: UInt32 = 0x0F80_0000  // f16 exponent bits 0x7C00 << 13
    @usableFromInline static let normalRebias: UInt32 = 112 << 23  // (127 - 15) << 23
    @usableFromInline static let specialRebias: UInt32 = 224 << 23  // f16 exponent 31 → binary32 exponent 255
    @usableFromInline static let subnormalMagic: UInt32 = 113 << 23  // bit pattern of 2^-14

    /// Widens the f16 with bit pattern `bits` to `Float`, exactly.
    @inlinable @inline(__always)
    public static func float(fromF16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let magnitude = UInt32(bits & 0x7FFF) << 13
        let exponent = magnitude & exponentMask
        let widened: UInt32
        if exponent == exponentMask {  // ±inf, NaN (payload kept)
            widened = magnitude &+ specialRebias
        } else if exponent == 0 {  // ±0, subnormal: m·2^-24 = (2^-14·(1 + m/1024)) − 2^-14, exact
            let biased = Float(bitPattern: magnitude &+ subnormalMagic)
            widened = (biased - Float(bitPattern: subnormalMagic)).bitPattern
        } else {  // normal
            widened = magnitude &+ normalRebias
        }
        return Float(bitPattern: widened | sign)
    }

    /// Widens 16 f16 bit patterns at once; lane-for-lane identical to ``float(fromF16:)``.
    ///
    /// Branch-free: the per-lane cases become all-ones/all-zeros masks made with shifts,
    /// because the stdlib's `replacing(with:where:)` is a per-lane generic loop.
    @inlinable @inline(__always)
    public static func float(fromF16 bits: SIMD16<UInt16>) -> SIMD16<Float> {
        let wide = unsafeBitCast(widen(bits), to: SIMD16<Int32>.self)
        let sign = (wide & 0x8000) &<< 16
        let magnitude = (wide & 0x7FFF) &<< 13
        let exponent = (wide &>> 10) & 0x1F
        let isSpecial = 0 &- ((exponent &+ 1) &>> 5)  // all ones where exponent == 31
        let isSmall = (exponent &- 1) &>> 31  // all ones where exponent == 0 (arithmetic shift)
        let rebias = Int32(bitPattern: normalRebias)
        let normal = magnitude &+ rebias &+ (isSpecial & rebias)  // specials get 2 × 112 << 23
        let magic = Int32(bitPattern: subnormalMagic)
        let biased = unsafeBitCast(magnitude &+ magic, to: SIMD16<Float>.self)
        let small = unsafeBitCast(biased - Float(bitPattern: subnormalMagic), to: SIMD16<Int32>.self)
        let widened = (small & isSmall) | (normal & ~isSmall)
        return unsafeBitCast(widened | sign, to: SIMD16<Float>.self)
    }

    /// Rounds `value` to the nearest f16 (ties to even) and returns its bit pattern.
    @inlinable @inline(__always)
    public static func f16Bits(from value: Float) -> UInt16 {
        Float16(value).bitPattern
    }

    /// Widens the bf16 with bit pattern `bits` to `Float` (exact: bf16 is a truncated binary32).
    @inlinable @inline(__always)
    public static func float(fromBF16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) &<< 16)
    }

    /// Widens 16 bf16 bit patterns at once.
    @inlinable @inline(__always)
    public static func float(fromBF16 bits: SIMD16<UInt16>) -> SIMD16<Float> {
        unsafeBitCast(widen(bits) &<< 16, to: SIMD16<Float>.self)
    }

    /// Rounds `value` to the nearest bf16 (ties to even) and returns its bit pattern; NaNs are
    /// made quiet, as ggml_compute_fp32_to_bf16 does.
    @inlinable @inline(__always)
    public static func bf16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7FFF_FFFF > 0x7F80_0000 {  // NaN: keep the top of the payload, set quiet bit
            return UInt16(truncatingIfNeeded: (bits >> 16) | 64)
        }
        let roundingBias: UInt32 = 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (UInt64(bits) &+ UInt64(roundingBias)) >> 16)
    }
}
