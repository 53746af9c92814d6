// Provenance: matches ggml dequantize_row_q5_0 (ggml-quants.c) and gguf-py quants.py Q5_0.
//
// Block (22 bytes, 32 elements), ggml `block_q5_0`:
//   field  offset  width  meaning
//   d      0       2      f16 scale
//   qh     2       4      little-endian u32; bit i is bit 4 of element i's quant
//   qs     6       16     low nibbles: element j < 16 uses qs[j] & 0xF, element j + 16 qs[j] >> 4
//
// Reconstruction (float32): q[i] = (nibble[i] | bit_i(qh) << 4) - 16;  y[i] = d * Float(q[i])

import CKernels

/// 5-bit symmetric quantization: 32 values in [-16, 15] sharing one f16 scale.
public enum Q5_0: BlockDecoding {
    public static let type = GGMLType.q5_0
    public static let blockSize = 32
    public static let bytesPerBlock = 22

    public static func dequantizeReference(block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        let qs = block + 6
        for j in 0 ..< 16 {
            let low = Int(qs.byte(j) & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
            let high = Int(qs.byte(j) >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = d * Float(low - 16)
            y[j + 16] = d * Float(high - 16)
        }
    }

    @inline(__always)
    static func decode<Sink: WeightSink>(block: UnsafeRawPointer, base: Int, into sink: inout Sink) {
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        let packed = block.loadUnaligned(fromByteOffset: 6, as: SIMD16<UInt8>.self)
        let low = widen(packed & 0x0F) | fifthBits(qh << 4)
        let high = widen(packed &>> 4) | fifthBits(qh >> 12)
        sink.take(
            quants: floats(low &- 16), floats(high &- 16),
            scale: loadScale(block, 0), at: base)
    }

    public static func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        decodeRow(row, into: y, count: count)
    }

    /// The C kernel of the same operations in the same order (Sources/CKernels/f32_avx512.c),
    /// where the CPU has AVX-512: the same bits, ~2× faster.
    static let vectorised = rmas_dot_f32_supported(6) != 0

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        vectorised ? rmas_dot_f32(6, Int32(count), row, x) : decodeDot(row, x, count: count)
    }
}
