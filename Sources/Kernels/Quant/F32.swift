// Provenance: matches gguf-py quants.py dequantize for F32 (`data.view(np.float32)`).
//
// Element (4 bytes): little-endian IEEE binary32, used as is.

/// Plain float32 weights.
public enum F32: ElementDecoding {
    public static let type = GGMLType.f32
    public static let blockSize = 1
    public static let bytesPerBlock = 4

    @inline(__always)
    static func widen(_ element: UnsafeRawPointer) -> Float {
        Float(bitPattern: UInt32(littleEndian: element.loadUnaligned(as: UInt32.self)))
    }

    @inline(__always)
    static func widen16(_ elements: UnsafeRawPointer) -> SIMD16<Float> {
        elements.loadUnaligned(as: SIMD16<Float>.self)
    }

    public static func dequantizeReference(block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        y[0] = widen(block)
    }

    public static func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        UnsafeMutableRawPointer(y).copyMemory(from: row, byteCount: count * bytesPerBlock)
    }

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        widenDot(row, x, count: count)
    }
}
