// Provenance: matches ggml dequantize_row_q4_K (ggml-quants.c) and gguf-py quants.py Q4_K.
//
// Super-block (144 bytes, 256 elements = 8 sub-blocks of 32), ggml `block_q4_K`:
//   field   offset  width  meaning
//   d       0       2      f16 super-scale for the sub-block scales
//   dmin    2       2      f16 super-scale for the sub-block mins
//   scales  4       12     eight 6-bit scales sc[j] and eight 6-bit mins m[j], packed:
//                            j < 4:  sc[j] = s[j] & 63,  m[j] = s[j + 4] & 63
//                            j >= 4: sc[j] = (s[j + 4] & 0xF) | (s[j - 4] >> 6) << 4
//                                    m[j]  = (s[j + 4] >> 4)  | (s[j]     >> 6) << 4
//   qs      16      128    nibbles; sub-blocks 2i and 2i+1 share qs[32i ..< 32i + 32]:
//                            element 64i + l      = qs[32i + l] & 0xF   (sub-block 2i)
//                            element 64i + 32 + l = qs[32i + l] >> 4    (sub-block 2i + 1)
//
// Reconstruction (float32, every product rounded before the subtraction):
//   y[32j + l] = (d * Float(sc[j])) * Float(q) - (dmin * Float(m[j]))

/// 4-bit "K" quantization: 256-element super-blocks of eight 32-element sub-blocks, each with
/// its own 6-bit scale and 6-bit min.
public enum Q4_K: BlockDecoding {
    public static let type = GGMLType.q4_K
    public static let blockSize = 256
    public static let bytesPerBlock = 144

    /// Sub-block `j`'s 6-bit scale and min from the 12 packed bytes at `scales` (ggml's
    /// get_scale_min_k4; Q5_K uses the same packing).
    @inline(__always)
    static func scaleAndMin(_ scales: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
        if j < 4 {
            return (scales.byte(j) & 63, scales.byte(j + 4) & 63)
        }
        let scale = (scales.byte(j + 4) & 0x0F) | (scales.byte(j - 4) >> 6) << 4
        let min = (scales.byte(j + 4) >> 4) | (scales.byte(j) >> 6) << 4
        return (scale, min)
    }

    /// All eight scales and mins at once, as the steps `d·sc[j]` and `dmin·m[j]` (the same
    /// float32 products as the reference), for the vectorised decoders. `block` is the
    /// super-block start; lanes 0–3 of the load at `block + 0` are d/dmin and get masked off.
    @inline(__always)
    static func steps(_ block: UnsafeRawPointer, d: Float, dmin: Float) -> (scale: SIMD8<Float>, min: SIMD8<Float>) {
        let a = block.loadUnaligned(fromByteOffset: 4, as: SIMD8<UInt8>.self)  // s[0 ..< 8]
        let b = block.loadUnaligned(fromByteOffset: 8, as: SIMD8<UInt8>.self)  // s[4 ..< 12]
        let c = block.loadUnaligned(fromByteOffset: 0, as: SIMD8<UInt8>.self)  // s[-4 ..< 4]
        let firstFour = SIMD8<UInt8>(255, 255, 255, 255, 0, 0, 0, 0)
        let scales = (a & 63 & firstFour) | (((b & 0x0F) | (c &>> 6) &<< 4) & ~firstFour)
        let mins = (b & 63 & firstFour) | (((b &>> 4) | (a &>> 6) &<< 4) & ~firstFour)
        return (d * floats(scales), dmin * floats(mins))
    }

    public static func dequantizeReference(block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let dmin = loadF16(block, 2)
        let qs = block + 16
        for j in 0 ..< 8 {
            let (scale, min) = scaleAndMin(block + 4, j)
            let dl = d * Float(scale)
            let ml = dmin * Float(min)
            let shift: UInt8 = j % 2 == 0 ? 0 : 4
            for l in 0 ..< 32 {
                let q = (qs.byte(32 * (j / 2) + l) >> shift) & 0x0F
                y[32 * j + l] = dl * Float(q) - ml
            }
        }
    }

    @inline(__always)
    static func decode<Sink: WeightSink>(block: UnsafeRawPointer, base: Int, into sink: inout Sink) {
        let (scale, min) = steps(block, d: loadScale(block, 0), dmin: loadScale(block, 2))
        for pair in 0 ..< 4 {  // sub-blocks 2·pair (low nibbles) and 2·pair + 1 (high nibbles)
            let lowD = scale[2 * pair], lowM = -min[2 * pair]
            let highD = scale[2 * pair + 1], highM = -min[2 * pair + 1]
            for half in 0 ..< 2 {
                let packed = block.loadUnaligned(fromByteOffset: 16 + 32 * pair + 16 * half, as: SIMD16<UInt8>.self)
                let offset = base + 64 * pair + 16 * half
                sink.take(affine(floats(packed & 0x0F), lowD, lowM), at: offset)
                sink.take(affine(floats(packed &>> 4), highD, highM), at: offset + 32)
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
