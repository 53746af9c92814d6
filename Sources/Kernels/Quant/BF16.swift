// Provenance: matches ggml ggml_bf16_to_fp32_row (ggml.c) and gguf-py quants.py BF16
// (`(blocks.view(np.int16).astype(np.int32) << 16).view(np.float32)`).
//
// Element (2 bytes): little-endian bfloat16, the upper half of an IEEE binary32.
// Reconstruction: y = Float(bitPattern: UInt32(bits) << 16)

/// bfloat16 weights.
public enum BF16: ElementDecoding {
    public static let type = GGMLType.bf16
    public static let blockSize = 1
    public static let bytesPerBlock = 2

    @inline(__always)
    static func widen(_ element: UnsafeRawPointer) -> Float {
        Half.float(fromBF16: UInt16(littleEndian: element.loadUnaligned(as: UInt16.self)))
    }

    @inline(__always)
    static func widen16(_ elements: UnsafeRawPointer) -> SIMD16<Float> {
        Half.float(fromBF16: elements.loadUnaligned(as: SIMD16<UInt16>.self))
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
