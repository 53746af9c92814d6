// Provenance: block layouts as documented at the top of each format's file (ggml `block_*`).
// A block-quantized weight is non-finite exactly when one of its f16 scale fields is (the
// quants are small integers), so checking a matrix reads 2–4 bytes per block, not the weights.

extension GGMLType {
    /// Byte offsets, within one block, of the f16 fields a weight is a finite multiple of;
    /// nil for the plain float encodings (every element is checked) and unsupported types.
    var halfScaleOffsets: [Int]? {
        switch self {
        case .q8_0, .q4_0, .q5_0: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        default: nil
        }
    }
}

extension QuantizedMatrix {
    /// The first row holding a NaN or infinite weight, nil when every weight is finite.
    /// Costs one pass over the scale fields (block formats) or the elements (f32/f16/bf16).
    public func firstNonFiniteRow() -> Int? {
        let offsets = type.halfScaleOffsets ?? [], blockBytes = type.quantFormat?.bytesPerBlock ?? 1
        let blocks = columns / (type.quantFormat?.blockSize ?? 1)
        for row in 0..<rows {
            let start = base + row * rowBytes
            let finite: Bool
            switch type {
            case .f32: finite = allBelow(start, count: columns, as: UInt32.self, exponentMask: 0x7F80_0000)
            case .f16: finite = allBelow(start, count: columns, as: UInt16.self, exponentMask: 0x7C00)
            case .bf16: finite = allBelow(start, count: columns, as: UInt16.self, exponentMask: 0x7F80)
            default: finite = scalesFinite(start, blocks: blocks, blockBytes: blockBytes, offsets: offsets)
            }
            if !finite { return row }
        }
        return nil
    }

    /// Whether every listed f16 scale field of `blocks` blocks is finite.
    private func scalesFinite(_ row: UnsafeRawPointer, blocks: Int, blockBytes: Int, offsets: [Int]) -> Bool {
        var bad = false
        for block in 0..<blocks {
            for offset in offsets {
                let bits = row.loadUnaligned(fromByteOffset: block * blockBytes + offset, as: UInt16.self)
                bad = bad || bits & 0x7C00 == 0x7C00
            }
        }
        return !bad
    }

    /// Whether no element has all exponent bits set (NaN or ±infinity in IEEE formats).
    private func allBelow<T: FixedWidthInteger>(_ row: UnsafeRawPointer, count: Int, as _: T.Type, exponentMask: T) -> Bool {
        var any: T = 0
        for i in 0..<count {
            let bits = row.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
            any |= (bits & exponentMask == exponentMask) ? 1 : 0
        }
        return any == 0
    }
}
