// Provenance: matches ggml dequantize_row_q4_1 (ggml-quants.c) and gguf-py quants.py Q4_1.
//
// Block (20 bytes, 32 elements), ggml `block_q4_1`:
//   field  offset  width  meaning
//   d      0       2      f16 scale
//   m      2       2      f16 offset (the block minimum; may be negative)
//   qs     4       16     nibbles: element j < 16 is qs[j] & 0xF, element j + 16 is qs[j] >> 4
//
// Reconstruction (float32, product rounded before the add): y[i] = (d * Float(q[i])) + m

/// 4-bit asymmetric quantization: 32 values in [0, 15] with an f16 scale and f16 offset.
public enum Q4_1: BlockDecoding {
    public static let type = GGMLType.q4_1
    public static let blockSize = 32
    public static let bytesPerBlock = 20

    public static func dequantizeReference(block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let m = loadF16(block, 2)
        let qs = block + 4
        for j in 0 ..< 16 {
            y[j] = (d * Float(qs.byte(j) & 0x0F)) + m
            y[j + 16] = (d * Float(qs.byte(j) >> 4)) + m
        }
    }

    @inline(__always)
    static func decode<Sink: WeightSink>(block: UnsafeRawPointer, base: Int, into sink: inout Sink) {
        let d = loadScale(block, 0), m = loadScale(block, 2)
        let packed = block.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
        sink.take(affine(floats(packed & 0x0F), d, m), at: base)
        sink.take(affine(floats(packed &>> 4), d, m), at: base + 16)
    }

    public static func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        decodeRow(row, into: y, count: count)
    }

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        decodeDot(row, x, count: count)
    }
}
