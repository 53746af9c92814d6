// Provenance: matches ggml ggml_fp16_to_fp32_row (ggml.c) and gguf-py quants.py dequantize for
// F16 (`data.view(np.float16).astype(np.float32)`), NaN payloads included.
//
// Element (2 bytes): little-endian IEEE binary16 (1 sign, 5 exponent bits, 10 mantissa bits).
// Reconstruction: exact widening to binary32 (see `Half.float(fromF16:)`).

/// IEEE half-precision weights.
public enum F16: ElementDecoding {
    public static let type = GGMLType.f16
    public static let blockSize = 1
    public static let bytesPerBlock = 2

    @inline(__always)
    static func widen(_ element: UnsafeRawPointer) -> Float {
        loadF16(element, 0)
    }

    @inline(__always)
    static func widen16(_ elements: UnsafeRawPointer) -> SIMD16<Float> {
        Half.float(fromF16: elements.loadUnaligned(as: SIMD16<UInt16>.self))
    }

    /// The hardware conversion (vcvtph2ps): exact, but it quiets signalling NaNs.
    @inline(__always)
    static func widen16ForDot(_ elements: UnsafeRawPointer) -> SIMD16<Float> {
        let halves = elements.loadUnaligned(as: SIMD16<Float16>.self)
        var out = SIMD16<Float>()
        for i in 0 ..< 16 { out[i] = Float(halves[i]) }
        return out
    }

    public static func dequantizeReference(block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        y[0] = widen(block)
    }

    public static func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        widenRow(row, into: y, count: count)
    }

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        widenDot(row, x, count: count)
    }
}
