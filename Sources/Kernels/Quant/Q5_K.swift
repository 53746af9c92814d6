// Provenance: matches ggml dequantize_row_q5_K (ggml-quants.c) and gguf-py quants.py Q5_K.
//
// Super-block (176 bytes, 256 elements = 8 sub-blocks of 32), ggml `block_q5_K`:
//   field   offset  width  meaning
//   d       0       2      f16 super-scale for the sub-block scales
//   dmin    2       2      f16 super-scale for the sub-block mins
//   scales  4       12     eight 6-bit scales and mins, packed as in Q4_K
//   qh      16      32     fifth bits: element 32j + l takes bit j of qh[l]
//   qs      48      128    low nibbles, laid out as Q4_K's qs:
//                            element 64i + l      = qs[32i + l] & 0xF
//                            element 64i + 32 + l = qs[32i + l] >> 4
//
// Reconstruction (float32, every product rounded before the subtraction):
//   q = nibble | bit_j(qh[l]) << 4;   y[32j + l] = (d * Float(sc[j])) * Float(q) - (dmin * Float(m[j]))

/// 5-bit "K" quantization: Q4_K plus one high bit per element.
public enum Q5_K: BlockDecoding {
    public static let type = GGMLType.q5_K
    public static let blockSize = 256
    public static let bytesPerBlock = 176

    public static func dequantizeReference(block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let dmin = loadF16(block, 2)
        let qh = block + 16
        let qs = block + 48
        for j in 0 ..< 8 {
            let (scale, min) = Q4_K.scaleAndMin(block + 4, j)
            let dl = d * Float(scale)
            let ml = dmin * Float(min)
            let shift: UInt8 = j % 2 == 0 ? 0 : 4
            for l in 0 ..< 32 {
                let low = (qs.byte(32 * (j / 2) + l) >> shift) & 0x0F
                let high = (qh.byte(l) >> UInt8(j)) & 1
                y[32 * j + l] = dl * Float(low | high << 4) - ml
            }
        }
    }

    @inline(__always)
    static func decode<Sink: WeightSink>(block: UnsafeRawPointer, base: Int, into sink: inout Sink) {
        let (scale, min) = Q4_K.steps(block, d: loadScale(block, 0), dmin: loadScale(block, 2))
        let highBits = (  // qh[0 ..< 16], qh[16 ..< 32]
            block.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self),
            block.loadUnaligned(fromByteOffset: 32, as: SIMD16<UInt8>.self))
        for pair in 0 ..< 4 {  // sub-blocks 2·pair (low nibbles) and 2·pair + 1 (high nibbles)
            let lowD = scale[2 * pair], lowM = -min[2 * pair]
            let highD = scale[2 * pair + 1], highM = -min[2 * pair + 1]
            for half in 0 ..< 2 {
                let packed = block.loadUnaligned(fromByteOffset: 48 + 32 * pair + 16 * half, as: SIMD16<UInt8>.self)
                let qh = half == 0 ? highBits.0 : highBits.1
                let low = (packed & 0x0F) | bitAsSixteen(qh, bit: 2 * pair)
                let high = (packed &>> 4) | bitAsSixteen(qh, bit: 2 * pair + 1)
                let offset = base + 64 * pair + 16 * half
                sink.take(affine(floats(low), lowD, lowM), at: offset)
                sink.take(affine(floats(high), highD, highM), at: offset + 32)
            }
        }
    }

    public static func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        decodeRow(row, into: y, count: count)
    }

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        decodeDot(row, x, count: count)
    }
}
