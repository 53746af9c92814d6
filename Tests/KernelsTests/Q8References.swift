import CKernels
import Foundation
import Kernels

// Swift references for the 8-bit-activation tests (Q8ActivationDotTests): a transcription of the
// activation quantizers' definition, a Swift version of the same integer row-dot math, and the
// test matrices.

/// The weight types with 8-bit-activation kernels, in a fixed order (test arguments).
let q8WeightTypes: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

/// The kernel levels this CPU can run (always scalar; AVX2 and AVX-512 VNNI where present).
let q8Levels: [Int32] = [Int32(RMAS_ISA_SCALAR), Int32(RMAS_ISA_AVX2), Int32(RMAS_ISA_AVX512VNNI)]
    .filter { rmas_isa_supported($0) != 0 }

// MARK: - Reference quantizers

/// Swift transcription of the quantizers' definition (ckernels.h): `amax/127` scales, ties to
/// even, f16 fields rounded to nearest-even; q8_K keeps the sign of the first element of
/// largest magnitude. Returns the activation blocks `activationType` takes for `x`.
func referenceQuantize(_ x: [Float], activationType: GGMLType) -> [UInt8] {
    var out: [UInt8] = []
    func appendF16(_ value: Float) {
        let bits = Half.f16Bits(from: value)
        out.append(UInt8(truncatingIfNeeded: bits))
        out.append(UInt8(truncatingIfNeeded: bits >> 8))
    }
    func q8(_ v: Float) -> Int8 {
        Int8(Swift.min(Swift.max(v, -127), 127).rounded(.toNearestOrEven))
    }
    switch activationType {
    case .q8_0, .q8_1:
        for start in stride(from: 0, to: x.count, by: 32) {
            let block = x[start ..< start + 32]
            let amax = block.reduce(Float(0)) { Swift.max($0, abs($1)) }
            let d = amax / 127
            let id: Float = amax != 0 ? 127 / amax : 0
            let quants = block.map { q8($0 * id) }
            appendF16(d)
            if activationType == .q8_1 {
                appendF16(d * Float(quants.reduce(0) { $0 + Int($1) }))
            }
            out += quants.map { UInt8(bitPattern: $0) }
        }
    default:  // q8_K
        for start in stride(from: 0, to: x.count, by: 256) {
            let block = Array(x[start ..< start + 256])
            var amax: Float = 0, max: Float = 0
            for v in block where abs(v) > amax { amax = abs(v); max = v }
            var quants = [Int8](repeating: 0, count: 256)
            var d: Float = 0
            if amax != 0 {
                let iscale = -127 / max
                quants = block.map { q8(iscale * $0) }
                d = 1 / iscale
            }
            withUnsafeBytes(of: d.bitPattern.littleEndian) { out += $0 }
            out += quants.map { UInt8(bitPattern: $0) }
            for group in 0 ..< 16 {
                let sum = Int16(quants[16 * group ..< 16 * group + 16].reduce(0) { $0 + Int($1) })
                withUnsafeBytes(of: sum.littleEndian) { out += $0 }
            }
        }
    }
    return out
}

/// Quantizes `x` with the C kernels of level `isa` for weights of `type`.
func cQuantize(_ x: [Float], for type: GGMLType, isa: Int32) -> [UInt8] {
    let count = rmas_activation_bytes(Int32(type.rawValue), Int64(x.count))
    var out = [UInt8](repeating: 0xAA, count: count)
    x.withUnsafeBufferPointer { xs in
        out.withUnsafeMutableBytes { ys in
            let status = rmas_quantize_activation_isa(isa, Int32(type.rawValue), xs.baseAddress!, ys.baseAddress!, Int64(x.count))
            precondition(status == 0)
        }
    }
    return out
}

/// The activations as the kernels see them: x̃[i] = d·q[i] of each block, in Float64.
func dequantizeActivations(_ blocks: [UInt8], activationType: GGMLType, count: Int) -> [Double] {
    blocks.withUnsafeBytes { raw in
        (0 ..< count).map { i -> Double in
            switch activationType {
            case .q8_0:
                let block = (i / 32) * 34
                let d = Half.float(fromF16: raw.loadUnaligned(fromByteOffset: block, as: UInt16.self))
                return Double(d) * Double(Int8(bitPattern: raw[block + 2 + i % 32]))
            case .q8_1:
                let block = (i / 32) * 36
                let d = Half.float(fromF16: raw.loadUnaligned(fromByteOffset: block, as: UInt16.self))
                return Double(d) * Double(Int8(bitPattern: raw[block + 4 + i % 32]))
            default:
                let block = (i / 256) * 292
                let d = raw.loadUnaligned(fromByteOffset: block, as: Float.self)
                return Double(d) * Double(Int8(bitPattern: raw[block + 4 + i % 256]))
            }
        }
    }
}

/// Activation vectors exercising the quantizers' corners: zeros, ties, both signs of the
/// maximum, tiny (f16-subnormal scale) and large magnitudes. `count` is a multiple of 256.
func edgeActivations(_ count: Int, seed: UInt64) -> [[Float]] {
    var rng = SeededGenerator(seed: seed)
    var cases: [[Float]] = []
    cases.append([Float](repeating: 0, count: count))
    // amax = 127 makes id = 1, so x = k + 0.5 are exact ties (→ even).
    cases.append((0 ..< count).map { i in i % 32 == 0 ? 127 : Float(i % 64) - 31.5 })
    // The largest magnitude appears with both signs; the first occurrence decides q8_K's sign.
    cases.append((0 ..< count).map { i in i % 7 == 3 ? -2 : (i % 7 == 5 ? 2 : Float.random(in: -1 ... 1, using: &rng)) })
    cases.append((0 ..< count).map { _ in Float.random(in: -1e-6 ... 1e-6, using: &rng) })
    // Large, but with q8_1's s = d·Σq still inside f16 range (|d·Σq| ≤ 65504, as llama.cpp
    // needs too: beyond it s becomes inf).
    cases.append((0 ..< count).map { _ in Float.random(in: -1000 ... 1000, using: &rng) })
    // A block with one spike and otherwise small values (most quants 0).
    cases.append((0 ..< count).map { i in i % 256 == 17 ? -50 : Float.random(in: -0.1 ... 0.1, using: &rng) })
    return cases
}

// MARK: - Reference integer dot

/// The integer math of the kernels, in Float64: `value` is what the kernel computes up to
/// float32 rounding, and `magnitude` the sum of the absolute values of the float terms it
/// rounds and adds (per-block scale × per-element |q_w·q_x|, plus the |m·s| / |dmin·Σm·x|
/// terms), which bounds that rounding.
func referenceIntegerDot(
    _ type: GGMLType, row: UnsafeRawPointer, activations xq: UnsafeRawPointer, count n: Int
) -> (value: Double, magnitude: Double) {
    func f16(_ p: UnsafeRawPointer, _ offset: Int) -> Double {
        Double(Half.float(fromF16: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }
    func byte(_ p: UnsafeRawPointer, _ offset: Int) -> Int { Int(p.load(fromByteOffset: offset, as: UInt8.self)) }
    func sbyte(_ p: UnsafeRawPointer, _ offset: Int) -> Int { Int(p.load(fromByteOffset: offset, as: Int8.self)) }
    var value = 0.0, magnitude = 0.0
    switch type {
    case .q8_0, .q4_0, .q5_0, .q4_1, .q5_1:
        let affine = type == .q4_1 || type == .q5_1
        let xBytes = affine ? 36 : 34, xQuants = affine ? 4 : 2
        for b in 0 ..< n / 32 {
            let w = row + b * type.bytesPerBlock, x = xq + b * xBytes
            var quants = [Int](repeating: 0, count: 32)
            switch type {
            case .q8_0:
                for i in 0 ..< 32 { quants[i] = sbyte(w, 2 + i) }
            default:
                let nibbles = [GGMLType.q4_0: 2, .q4_1: 4, .q5_0: 6, .q5_1: 8][type]!
                let qh: UInt32 = type == .q5_0 ? w.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
                    : type == .q5_1 ? w.loadUnaligned(fromByteOffset: 4, as: UInt32.self) : 0
                let bias = [GGMLType.q4_0: -8, .q5_0: -16][type] ?? 0
                for j in 0 ..< 16 {
                    quants[j] = byte(w, nibbles + j) & 15 + Int((qh >> UInt32(j)) & 1) * 16 + bias
                    quants[j + 16] = byte(w, nibbles + j) >> 4 + Int((qh >> UInt32(j + 16)) & 1) * 16 + bias
                }
            }
            var sum = 0, absSum = 0
            for i in 0 ..< 32 {
                let p = quants[i] * sbyte(x, xQuants + i)
                sum += p
                absSum += abs(p)
            }
            let scale = f16(w, 0) * f16(x, 0)
            value += scale * Double(sum)
            magnitude += abs(scale) * Double(absSum)
            if affine {
                let ms = f16(w, 2) * f16(x, 2)
                value += ms
                magnitude += abs(ms)
            }
        }
    case .q4_K, .q5_K:
        let q5 = type == .q5_K
        for b in 0 ..< n / 256 {
            let w = row + b * type.bytesPerBlock, x = xq + b * 292
            let dx = Double(x.loadUnaligned(as: Float.self))
            let s = (0 ..< 12).map { byte(w, 4 + $0) }
            var sumScaled = 0, absScaled = 0, sumMins = 0, absMins = 0
            for j in 0 ..< 8 {
                let scale = j < 4 ? s[j] & 63 : (s[j + 4] & 15) | (s[j - 4] >> 6) << 4
                let min = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | (s[j] >> 6) << 4
                var dot = 0, absDot = 0, xSum = 0, xAbs = 0
                for l in 0 ..< 32 {
                    var q = (byte(w, (q5 ? 48 : 16) + 32 * (j / 2) + l) >> (4 * (j % 2))) & 15
                    if q5 { q += ((byte(w, 16 + l) >> j) & 1) * 16 }
                    let xv = sbyte(x, 4 + 32 * j + l)
                    dot += q * xv
                    absDot += abs(q * xv)
                    xSum += xv
                    xAbs += abs(xv)
                }
                sumScaled += scale * dot
                absScaled += scale * absDot
                sumMins += min * xSum
                absMins += min * xAbs
            }
            let d = f16(w, 0) * dx, dmin = f16(w, 2) * dx
            value += d * Double(sumScaled) - dmin * Double(sumMins)
            magnitude += abs(d) * Double(absScaled) + abs(dmin) * Double(absMins)
        }
    case .q6_K:
        for b in 0 ..< n / 256 {
            let w = row + b * type.bytesPerBlock, x = xq + b * 292
            var quants = [Int](repeating: 0, count: 256)
            for h in 0 ..< 2 {
                for l in 0 ..< 32 {
                    let low0 = byte(w, 64 * h + l), low1 = byte(w, 64 * h + 32 + l), high = byte(w, 128 + 32 * h + l)
                    quants[128 * h + l] = (low0 & 15 | (high & 3) << 4) - 32
                    quants[128 * h + 32 + l] = (low1 & 15 | ((high >> 2) & 3) << 4) - 32
                    quants[128 * h + 64 + l] = (low0 >> 4 | ((high >> 4) & 3) << 4) - 32
                    quants[128 * h + 96 + l] = (low1 >> 4 | ((high >> 6) & 3) << 4) - 32
                }
            }
            var sum = 0, absSum = 0
            for i in 0 ..< 256 {
                let p = sbyte(w, 192 + i / 16) * quants[i] * sbyte(x, 4 + i)
                sum += p
                absSum += abs(p)
            }
            let d = f16(w, 208) * Double(x.loadUnaligned(as: Float.self))
            value += d * Double(sum)
            magnitude += abs(d) * Double(absSum)
        }
    default:
        preconditionFailure("no reference for \(type)")
    }
    return (value, magnitude)
}

/// Float32 rounding bound of a kernel dot relative to ``referenceIntegerDot``: every float term
/// is exact up to ≤ 3 roundings (scale product, conversion-free int → float, FMA) and then passes
/// through at most one accumulator per block (the scalar kernel adds blocks one by one) plus the
/// 4-level horizontal sum and the m·s / min lanes, so k = blocks + 12 roundings at most and
/// |error| ≤ γ_k·magnitude, γ_k = k·u/(1 − k·u), u = 2⁻²⁴ (Higham §3.1). Absolute floor for
/// underflow as in ``dotErrorBound(columns:magnitudeSum:)``.
func integerDotBound(blocks: Int, magnitude: Double) -> Double {
    let u = Double(Float.ulpOfOne) / 2
    let k = Double(blocks + 12)
    return k * u / (1 - k * u) * magnitude + Double(blocks) * 64 * Double(Float.leastNonzeroMagnitude)
}

/// Bound on |kernel dot − Σ w[i]·x[i]| (w = dequantized weights, x = unquantized activations)
/// caused by quantizing x. Per activation block with largest magnitude `amax`:
///  * q8_0/q8_1: the stored scale D = f16(D₀), D₀ = amax/127, and q = round(x·127/amax), so
///    |x − D₀·q| ≤ D₀/2 (+ the float error of x·id, < 2⁻²²·|x|) and |D₀·q − D·q| ≤ 127·|D₀ − D|
///    with |D₀ − D| ≤ max(2⁻¹¹·D₀, 2⁻²⁵) (half an f16 ulp, normal or subnormal); hence
///    |x − x̃| ≤ e = D₀/2 + 127·max(2⁻¹¹·D₀, 2⁻²⁵) + 2⁻²²·amax.
///    Affine weights (q4_1/q5_1) add m·s instead of m·Σx̃: s = f16(D₀·Σq) is within
///    2⁻¹¹·|D₀·Σq| + 2⁻²⁵ of D₀·Σq, and D₀·Σq within Σ|q|·|D₀ − D| of D·Σq, so the extra error is
///    |m|·(2⁻¹¹·D₀·Σ|q| + 2⁻²⁵ + Σ|q|·max(2⁻¹¹·D₀, 2⁻²⁵)).
///  * q8_K: D = 1/iscale in float32, q = round(x·iscale): |x − D·q| ≤ |D|/2·(1 + 2⁻²²) + 2⁻²²·amax.
/// The total is Σ_blocks Σ_i |w[i]|·e (+ the affine term), plus the kernel's own float rounding
/// (``integerDotBound(blocks:magnitude:)``) and the decoders' float rounding of w (a few ulps:
/// 2⁻²¹·Σ|w·x|).
func activationQuantizationBound(
    weights w: ArraySlice<Float>, x: [Float], activationType: GGMLType, affineMins mins: [Double]?
) -> Double {
    let blockSize = activationType == .q8_K ? 256 : 32
    var bound = 0.0
    for (b, start) in stride(from: 0, to: x.count, by: blockSize).enumerated() {
        let xs = x[start ..< start + blockSize]
        let amax = Double(xs.reduce(Float(0)) { Swift.max($0, abs($1)) })
        let wAbs = (0 ..< blockSize).reduce(0.0) { $0 + abs(Double(w[w.startIndex + start + $1])) }
        let e: Double
        if activationType == .q8_K {
            e = amax / 127 / 2 * (1 + 0x1p-22) + 0x1p-22 * amax
        } else {
            let d0 = amax / 127
            let dError = Swift.max(0x1p-11 * d0, 0x1p-25)
            e = d0 / 2 + 127 * dError + 0x1p-22 * amax
            if let mins {
                let qAbs = 32 * 127.0
                bound += abs(mins[b]) * (0x1p-11 * d0 * qAbs + 0x1p-25 + qAbs * dError)
            }
        }
        bound += wAbs * e
    }
    return bound
}

// MARK: - Helpers

/// Random weight bytes as TestData makes them, plus a few structured rows: all-ones bits
/// (maximal quants), all-zero bits, and q8_0's -128.
func q8TestMatrixBytes(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
    var bytes = randomMatrixBytes(type, rows: rows, columns: columns, seed: seed)
    let rowBytes = columns / type.blockSize * type.bytesPerBlock
    if rows >= 3 {
        for i in 0 ..< rowBytes { bytes[i] = 0xFF; bytes[rowBytes + i] = type == .q8_0 ? 0x80 : 0 }
        // Keep the f16 fields finite and realistic in the structured rows.
        for r in 0 ..< 2 {
            for block in 0 ..< columns / type.blockSize {
                for (field, offset) in f16FieldOffsets(type).enumerated() {
                    let bits = Half.f16Bits(from: field == 0 ? -0.03 : 0.2)
                    bytes[r * rowBytes + block * type.bytesPerBlock + offset] = UInt8(truncatingIfNeeded: bits)
                    bytes[r * rowBytes + block * type.bytesPerBlock + offset + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                }
            }
        }
    }
    return bytes
}

/// The per-block mins m (second f16 field) of an affine 32-element row, else nil.
func affineMins(_ type: GGMLType, row: UnsafeRawPointer, columns: Int) -> [Double]? {
    guard type == .q4_1 || type == .q5_1 else { return nil }
    return (0 ..< columns / 32).map {
        Double(Half.float(fromF16: row.loadUnaligned(fromByteOffset: $0 * type.bytesPerBlock + 2, as: UInt16.self)))
    }
}

/// One row through `rmas_gemv_isa`.
func cDot(_ type: GGMLType, isa: Int32, row: UnsafeRawPointer, activations: UnsafeRawPointer, columns: Int) -> Float {
    var y = Float.nan
    let status = rmas_gemv_isa(isa, Int32(type.rawValue), Int32(columns), row, 0, activations, &y, 1)
    precondition(status == 0)
    return y
}

