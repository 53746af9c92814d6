import Kernels

/// SplitMix64: a tiny seeded generator so test data is the same on every run and machine.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The compute-supported types, in a fixed order (test arguments).
let supportedTypes: [GGMLType] = GGMLType.allCases.filter(\.isComputeSupported)

/// Offsets of the f16 scale/min fields inside one block, from each format's layout comment.
/// Random test blocks get realistic finite values written there.
func f16FieldOffsets(_ type: GGMLType) -> [Int] {
    switch type {
    case .q8_0, .q4_0, .q5_0: [0]
    case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
    case .q6_K: [208]
    default: []
    }
}

/// Raw bytes of a `rows × columns` matrix of `type` with random quants and realistic weights:
/// scales in ±1/16, mins in ±1/4; f32/f16/bf16 elements in ±2.
func randomMatrixBytes(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
    var rng = SeededGenerator(seed: seed)
    let blocks = rows * columns / type.blockSize
    var bytes = (0 ..< blocks * type.bytesPerBlock).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
    func putHalfBits(_ bits: UInt16, at offset: Int) {
        bytes[offset] = UInt8(truncatingIfNeeded: bits)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: bits >> 8)
    }
    switch type {
    case .f32:
        for i in 0 ..< blocks {
            let bits = Float.random(in: -2 ... 2, using: &rng).bitPattern
            for k in 0 ..< 4 { bytes[4 * i + k] = UInt8(truncatingIfNeeded: bits >> (8 * k)) }
        }
    case .f16:
        for i in 0 ..< blocks { putHalfBits(Half.f16Bits(from: .random(in: -2 ... 2, using: &rng)), at: 2 * i) }
    case .bf16:
        for i in 0 ..< blocks { putHalfBits(Half.bf16Bits(from: .random(in: -2 ... 2, using: &rng)), at: 2 * i) }
    default:
        let offsets = f16FieldOffsets(type)
        for block in 0 ..< blocks {
            for (field, offset) in offsets.enumerated() {
                let bound: Float = field == 0 ? 1.0 / 16 : 1.0 / 4
                let value = Float.random(in: -bound ... bound, using: &rng)
                putHalfBits(Half.f16Bits(from: value), at: block * type.bytesPerBlock + offset)
            }
        }
    }
    return bytes
}

/// `count` activations uniform in ±1.
func randomActivations(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0 ..< count).map { _ in Float.random(in: -1 ... 1, using: &rng) }
}

/// Scalar reference decode of a whole matrix (row-major, `rows × columns`).
func referenceDequantize(_ type: GGMLType, bytes: UnsafeRawBufferPointer, rows: Int, columns: Int) -> [Float] {
    guard let format = type.quantFormat, let base = bytes.baseAddress else { return [] }
    let rowBytes = columns / type.blockSize * type.bytesPerBlock
    var out = [Float](repeating: .nan, count: rows * columns)
    out.withUnsafeMutableBufferPointer { y in
        guard let y = y.baseAddress else { return }
        for r in 0 ..< rows {
            format.dequantizeRowReference(base + r * rowBytes, into: y + r * columns, count: columns)
        }
    }
    return out
}

/// Describes the first few bit-pattern mismatches between two equally long float arrays
/// (nil when they match bit for bit), naming each element's block.
func bitMismatches(_ got: [Float], _ expected: [Float], blockSize: Int, limit: Int = 5) -> String? {
    var lines: [String] = []
    var count = 0
    for i in 0 ..< min(got.count, expected.count) where got[i].bitPattern != expected[i].bitPattern {
        count += 1
        if lines.count < limit {
            let g = String(got[i].bitPattern, radix: 16), e = String(expected[i].bitPattern, radix: 16)
            lines.append("element \(i) (block \(i / blockSize)): got 0x\(g) (\(got[i])), expected 0x\(e) (\(expected[i]))")
        }
    }
    if got.count != expected.count { lines.append("length \(got.count) != \(expected.count)") }
    return lines.isEmpty ? nil : "\(count) mismatching elements; first:\n" + lines.joined(separator: "\n")
}
