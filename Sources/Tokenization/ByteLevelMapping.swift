// Provenance: must match llama.cpp src/unicode.cpp `unicode_byte_to_utf8_map` /
// `unicode_utf8_to_byte_map` — GPT-2's reversible byte-to-character table.

/// GPT-2's byte-level alphabet: each byte is shown as a printable character, so byte-level BPE
/// vocabularies can be stored as text. Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) map to
/// themselves; the remaining 68 bytes map, in byte order, to U+0100, U+0101, ….
enum ByteLevelMapping {
    /// The character (code point) standing for each byte.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The inverse: byte for each code point below 0x144, or -1.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 256 + 68)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar)] = Int16(byte) }
        return table
    }()

    /// The UTF-8 encoding of each byte's character (one or two bytes).
    static let utf8ForByte: [[UInt8]] = scalarForByte.map { scalar in
        var bytes: [UInt8] = []
        UTF8Coding.append(scalar, to: &bytes)
        return bytes
    }

    static func byte(for scalar: UInt32) -> UInt8? {
        guard scalar < UInt32(byteForScalar.count) else { return nil }
        let byte = byteForScalar[Int(scalar)]
        return byte < 0 ? nil : UInt8(byte)
    }

    private static func isPrintable(_ byte: Int) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }
}
