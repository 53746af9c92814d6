// Provenance: equivalent to llama.cpp src/unicode.cpp `unicode_cpt_to_utf8`,
// `unicode_cpts_from_utf8` and `unicode_len_utf8` for valid UTF-8 input.

/// Small UTF-8 helpers that work on raw bytes, for the tokenizer's hot paths.
enum UTF8Coding {
    /// Appends the UTF-8 encoding of `scalar` (assumed ≤ U+10FFFF).
    @inline(__always)
    static func append(_ scalar: UInt32, to bytes: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            bytes.append(UInt8(scalar))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | (scalar >> 6)))
            bytes.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | (scalar >> 12)))
            bytes.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            bytes.append(UInt8(0xF0 | (scalar >> 18)))
            bytes.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    /// Length of the sequence a lead byte starts, by its high nibble (1 for stray bytes).
    @inline(__always)
    static func sequenceLength(lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: 2
        case 0xE: 3
        case 0xF: 4
        default: 1
        }
    }

    /// Decodes well-formed UTF-8 into code points, also recording where each starts.
    /// `starts` gets one extra final entry: the end offset.
    static func decode(
        _ bytes: UnsafeBufferPointer<UInt8>, scalars: inout [UInt32], starts: inout [Int32]
    ) {
        scalars.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        var i = 0
        let n = bytes.count
        while i < n {
            starts.append(Int32(i))
            let b0 = UInt32(bytes[i])
            let length = min(sequenceLength(lead: bytes[i]), n - i)
            var value: UInt32
            switch length {
            case 2: value = (b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
            case 3:
                value = (b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
            case 4:
                value = (b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12
                    | UInt32(bytes[i + 2] & 0x3F) << 6 | UInt32(bytes[i + 3] & 0x3F)
            default: value = b0
            }
            scalars.append(value)
            i += length
        }
        starts.append(Int32(n))
    }
}
