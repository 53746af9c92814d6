// Provenance: matches ggml dequantize_row_q5_1 (ggml-quants.c) and gguf-py quants.py Q5_1.
//
// Block (24 bytes, 32 elements), ggml `block_q5_1`:
//   field  offset  width  meaning
//   d      0       2      f16 scale
//   m      2       2      f16 offset (the block minimum; may be negative)
//   qh     4       4      little-endian u32; bit i is bit 4 of element i's quant
//   qs     8       16     low nibbles: element j < 16 uses qs[j] & 0xF, element j + 16 qs[j] >> 4
//
// Reconstruction (float32, product rounded before the add):
//   q[i] = nibble[i] | bit_i(qh) << 4;  y[i] = (d * Float(q[i])) + m

/// 5-bit asymmetric quantization: 32 values in [0, 31] with an f16 scale and f16 offset.
public enum Q5_1: BlockDecoding {
    public static let type = GGMLType.q5_1
    public static let blockSize = 32
    public static let bytesPerBlock = 24

    public static func dequantizeReference(block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let m = loadF16(block, 2)
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let qs = block + 8
        for j in 0 ..< 16 {
            let low = UInt32(qs.byte(j) & 0x0F) | ((qh >> UInt32(j)) & 1) << 4
            let high = UInt32(qs.byte(j) >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = (d * Float(low)) + m
            y[j + 16] = (d * Float(high)) + m
        }
    }

    @inline(__always)
    static func decode<Sink: WeightSink>(block: UnsafeRawPointer, base: Int, into sink: inout Sink) {
        let d = loadScale(block, 0), m = loadScale(block, 2)
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let packed = block.loadUnaligned(fromByteOffset: 8, as: SIMD16<UInt8>.self)
        let low = widen(packed & 0x0F) | fifthBits(qh << 4)
        let high = widen(packed &>> 4) | fifthBits(qh >> 12)
        sink.take(affine(floats(low), d, m), at: base)
        sink.take(affine(floats(high), d, m), at: base + 16)
    }

    public static func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        decodeRow(row, into: y, count: count)
    }

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        decodeDot(row, x, count: count)
    }
}
