// Provenance: matches ggml dequantize_row_q8_0 (ggml-quants.c) and gguf-py quants.py Q8_0.
//
// Block (34 bytes, 32 elements), ggml `block_q8_0`:
//   field  offset  width  meaning
//   d      0       2      f16 scale
//   qs     2       32     int8 quants, element i = qs[i]
//
// Reconstruction (float32): y[i] = Float(qs[i]) * d

import CKernels

/// 8-bit symmetric quantization: 32 int8 values sharing one f16 scale.
public enum Q8_0: BlockDecoding {
    public static let type = GGMLType.q8_0
    public static let blockSize = 32
    public static let bytesPerBlock = 34

    public static func dequantizeReference(block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let qs = block + 2
        for i in 0 ..< 32 {
            y[i] = Float(qs.signedByte(i)) * d
        }
    }

    @inline(__always)
    static func decode<Sink: WeightSink>(block: UnsafeRawPointer, base: Int, into sink: inout Sink) {
        let quants = block.loadUnaligned(fromByteOffset: 2, as: SIMD32<Int8>.self)
        sink.take(quants: floats(quants.lowHalf), floats(quants.highHalf), scale: loadScale(block, 0), at: base)
    }

    public static func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        decodeRow(row, into: y, count: count)
    }

    /// The C kernel of the same operations in the same order (Sources/CKernels/f32_avx512.c),
    /// where the CPU has AVX-512: the same bits, ~2× faster.
    static let vectorised = rmas_dot_f32_supported(8) != 0

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        vectorised ? rmas_dot_f32(8, Int32(count), row, x) : decodeDot(row, x, count: count)
    }
}
