// Provenance: matches ggml dequantize_row_q4_0 (ggml-quants.c) and gguf-py quants.py Q4_0.
//
// Block (18 bytes, 32 elements), ggml `block_q4_0`:
//   field  offset  width  meaning
//   d      0       2      f16 scale
//   qs     2       16     nibbles: element j < 16 is qs[j] & 0xF, element j + 16 is qs[j] >> 4
//
// Reconstruction (float32): y[i] = d * Float(q[i] - 8)

/// 4-bit symmetric quantization: 32 values in [-8, 7] sharing one f16 scale.
public enum Q4_0: BlockDecoding {
    public static let type = GGMLType.q4_0
    public static let blockSize = 32
    public static let bytesPerBlock = 18

    public static func dequantizeReference(block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let qs = block + 2
        for j in 0 ..< 16 {
            y[j] = d * Float(Int(qs.byte(j) & 0x0F) - 8)
            y[j + 16] = d * Float(Int(qs.byte(j) >> 4) - 8)
        }
    }

    @inline(__always)
    static func decode<Sink: WeightSink>(block: UnsafeRawPointer, base: Int, into sink: inout Sink) {
        let packed = block.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
        let low = unsafeBitCast(packed & 0x0F, to: SIMD16<Int8>.self) &- 8
        let high = unsafeBitCast(packed &>> 4, to: SIMD16<Int8>.self) &- 8
        sink.take(quants: floats(low), floats(high), scale: loadScale(block, 0), at: base)
    }

    public static func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        decodeRow(row, into: y, count: count)
    }

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        decodeDot(row, x, count: count)
    }
}
