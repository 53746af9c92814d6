// Provenance: matches ggml dequantize_row_q6_K (ggml-quants.c) and gguf-py quants.py Q6_K.
//
// Super-block (210 bytes, 256 elements = 16 groups of 16), ggml `block_q6_K`:
//   field   offset  width  meaning
//   ql      0       128    low 4 bits; halves h = 0, 1 use ql[64h ..< 64h + 64]
//   qh      128     64     high 2 bits; halves h = 0, 1 use qh[32h ..< 32h + 32]
//   scales  192     16     int8 scale per 16-element group: element e uses scales[e / 16]
//   d       208     2      f16 super-scale
//
// Quants, for half h and l in 0 ..< 32 (e0 = 128h):
//   element e0 +      l: ql[64h + l]      & 0xF | ((qh[32h + l] >> 0) & 3) << 4
//   element e0 + 32 + l: ql[64h + 32 + l] & 0xF | ((qh[32h + l] >> 2) & 3) << 4
//   element e0 + 64 + l: ql[64h + l]      >> 4  | ((qh[32h + l] >> 4) & 3) << 4
//   element e0 + 96 + l: ql[64h + 32 + l] >> 4  | ((qh[32h + l] >> 6) & 3) << 4
//
// Reconstruction (float32): y[e] = (d * Float(scales[e / 16])) * Float(q[e] - 32)

/// 6-bit "K" quantization: 256-element super-blocks with an int8 scale per 16 elements.
public enum Q6_K: BlockDecoding {
    public static let type = GGMLType.q6_K
    public static let blockSize = 256
    public static let bytesPerBlock = 210

    public static func dequantizeReference(block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 208)
        for half in 0 ..< 2 {
            let ql = block + 64 * half
            let qh = block + 128 + 32 * half
            for l in 0 ..< 32 {
                let high = qh.byte(l)
                let q0 = Int((ql.byte(l) & 0x0F) | (high & 3) << 4) - 32
                let q1 = Int((ql.byte(l + 32) & 0x0F) | ((high >> 2) & 3) << 4) - 32
                let q2 = Int((ql.byte(l) >> 4) | ((high >> 4) & 3) << 4) - 32
                let q3 = Int((ql.byte(l + 32) >> 4) | (high >> 6) << 4) - 32
                let e = 128 * half + l
                y[e] = scale(block, d, e) * Float(q0)
                y[e + 32] = scale(block, d, e + 32) * Float(q1)
                y[e + 64] = scale(block, d, e + 64) * Float(q2)
                y[e + 96] = scale(block, d, e + 96) * Float(q3)
            }
        }
    }

    @inline(__always)
    static func decode<Sink: WeightSink>(block: UnsafeRawPointer, base: Int, into sink: inout Sink) {
        let d = loadScale(block, 208)
        for half in 0 ..< 2 {
            for l in stride(from: 0, to: 32, by: 16) {
                let lowA = block.loadUnaligned(fromByteOffset: 64 * half + l, as: SIMD16<UInt8>.self)  // ql[64h + l ..]
                let lowB = block.loadUnaligned(fromByteOffset: 64 * half + 32 + l, as: SIMD16<UInt8>.self)  // ql[64h + 32 + l ..]
                let high = block.loadUnaligned(fromByteOffset: 128 + 32 * half + l, as: SIMD16<UInt8>.self)  // qh[32h + l ..]
                let quants = (
                    (lowA & 0x0F) | (high & 3) &<< 4,
                    (lowB & 0x0F) | ((high &>> 2) & 3) &<< 4,
                    (lowA &>> 4) | ((high &>> 4) & 3) &<< 4,
                    (lowB &>> 4) | (high &>> 6) &<< 4
                )
                let e = 128 * half + l
                sink.take(scale(block, d, e) * centred(quants.0), at: base + e)
                sink.take(scale(block, d, e + 32) * centred(quants.1), at: base + e + 32)
                sink.take(scale(block, d, e + 64) * centred(quants.2), at: base + e + 64)
                sink.take(scale(block, d, e + 96) * centred(quants.3), at: base + e + 96)
            }
        }
    }

    /// `d * scales[e / 16]`, the step of the 16-element group holding element `e`.
    @inline(__always)
    private static func scale(_ block: UnsafeRawPointer, _ d: Float, _ e: Int) -> Float {
        d * Float(block.signedByte(192 + e / 16))
    }

    /// 6-bit quants in 0 ..< 64 as floats in -32 ..< 32.
    @inline(__always)
    private static func centred(_ quants: SIMD16<UInt8>) -> SIMD16<Float> {
        floats(unsafeBitCast(quants, to: SIMD16<Int8>.self) &- 32)
    }

    public static func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        decodeRow(row, into: y, count: count)
    }

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        decodeDot(row, x, count: count)
    }
}
