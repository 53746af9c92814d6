// Small SIMD building blocks shared by the quantized kernels. With `-target-cpu native` on an
// AVX-512 machine a SIMD16<Float> is one zmm register; on AVX2 machines LLVM splits it in two.

/// Loads 16 floats from `pointer` (no alignment needed).
@inline(__always)
func loadFloats(_ pointer: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
}

/// Stores 16 floats at `pointer` (no alignment needed).
@inline(__always)
func storeFloats(_ value: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD16<Float>.self)
}

// Lane-type conversions. The stdlib's `SIMD16<Int32>(truncatingIfNeeded:)` and
// `SIMD16<Float>(_:)` are generic per-lane loops that the SIL inliner leaves as out-of-line
// calls (each passing the vector through four xmm registers), which costs several times the
// arithmetic of a kernel. These force-inlined loops let LLVM emit single instructions instead
// (vpmovzxbd, vpmovsxbd, vcvtdq2ps).

/// Zero-extends 16 bytes into 32-bit lanes.
@usableFromInline @inline(__always)
func widen(_ bytes: SIMD16<UInt8>) -> SIMD16<Int32> {
    var lanes = SIMD16<Int32>()
    for i in 0 ..< 16 { lanes[i] = Int32(bytes[i]) }
    return lanes
}

/// Sign-extends 16 signed bytes into 32-bit lanes.
@usableFromInline @inline(__always)
func widen(_ bytes: SIMD16<Int8>) -> SIMD16<Int32> {
    var lanes = SIMD16<Int32>()
    for i in 0 ..< 16 { lanes[i] = Int32(bytes[i]) }
    return lanes
}

/// Zero-extends 16 half-words into 32-bit lanes.
@usableFromInline @inline(__always)
func widen(_ halves: SIMD16<UInt16>) -> SIMD16<UInt32> {
    var lanes = SIMD16<UInt32>()
    for i in 0 ..< 16 { lanes[i] = UInt32(halves[i]) }
    return lanes
}

/// Converts 16 int32 lanes to float (exact for |v| < 2^24, which covers every quant).
@usableFromInline @inline(__always)
func floats(_ lanes: SIMD16<Int32>) -> SIMD16<Float> {
    var out = SIMD16<Float>()
    for i in 0 ..< 16 { out[i] = Float(lanes[i]) }
    return out
}

/// Converts 8 unsigned bytes to floats.
@inline(__always)
func floats(_ bytes: SIMD8<UInt8>) -> SIMD8<Float> {
    var out = SIMD8<Float>()
    for i in 0 ..< 8 { out[i] = Float(bytes[i]) }
    return out
}

/// Converts 16 unsigned bytes to floats (vpmovzxbd + vcvtdq2ps).
@inline(__always)
func floats(_ bytes: SIMD16<UInt8>) -> SIMD16<Float> { floats(widen(bytes)) }

/// Converts 16 signed bytes to floats (vpmovsxbd + vcvtdq2ps).
@inline(__always)
func floats(_ bytes: SIMD16<Int8>) -> SIMD16<Float> { floats(widen(bytes)) }

/// `q·scale + offset`, as one fused multiply-add per lane.
///
/// Used where the reference computes `(scale * q) + offset` in two roundings: there `scale`
/// has at most 17 significant bits (an f16 times a 6-bit sub-block scale) and `q` at most 5,
/// so the product is exact in float32 and the single rounding of the FMA gives the same bits.
@inline(__always)
func affine(_ q: SIMD16<Float>, _ scale: Float, _ offset: Float) -> SIMD16<Float> {
    SIMD16<Float>(repeating: offset).addingProduct(q, scale)
}

/// Reads the little-endian f16 at `offset` and widens it exactly (numpy's conversion, NaN
/// payloads kept): what the scalar reference decoders use.
@inline(__always)
func loadF16(_ base: UnsafeRawPointer, _ offset: Int) -> Float {
    Half.float(fromF16: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

/// Reads the little-endian f16 scale at `offset` with the hardware conversion (one
/// `vcvtph2ps`), for the vectorised decoders. It equals ``loadF16(_:_:)`` except that a
/// signalling NaN comes back quiet, and that cannot show in a decoded weight: every format
/// multiplies or adds its f16 fields before storing, and x86 arithmetic quiets a signalling
/// NaN operand the same way.
@inline(__always)
func loadScale(_ base: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
}

/// Tree reduction of the 16 lanes (the stdlib's `sum()` adds them one at a time).
@inline(__always)
func horizontalSum(_ value: SIMD16<Float>) -> Float {
    let eight = value.lowHalf + value.highHalf
    let four = eight.lowHalf + eight.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}

/// Lane `i` is 16 where bit `i + 4` of `bits` is set, else 0: the fifth bits of 16 5-bit
/// quants, in 32-bit lanes (one broadcast, one variable shift, one AND). Pass the mask of
/// elements `k ..< k + 16` shifted so that element `k`'s bit sits at bit 4
/// (`qh << 4` for the first 16, `qh >> 12` for the next 16).
@inline(__always)
func fifthBits(_ bits: UInt32) -> SIMD16<Int32> {
    let lanes = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    return unsafeBitCast((SIMD16<UInt32>(repeating: bits) &>> lanes) & 16, to: SIMD16<Int32>.self)
}

/// Bit `bit` of every byte, moved to bit 4 (value 16 or 0).
@inline(__always)
func bitAsSixteen(_ bytes: SIMD16<UInt8>, bit: Int) -> SIMD16<UInt8> {
    bit <= 4 ? (bytes &<< UInt8(4 - bit)) & 0x10 : (bytes &>> UInt8(bit - 4)) & 0x10
}

extension UnsafeRawPointer {
    /// The byte at `offset` (scalar reference decoders read blocks through these).
    @inline(__always)
    func byte(_ offset: Int) -> UInt8 { load(fromByteOffset: offset, as: UInt8.self) }

    /// The byte at `offset`, read as a two's-complement int8.
    @inline(__always)
    func signedByte(_ offset: Int) -> Int8 { load(fromByteOffset: offset, as: Int8.self) }
}
