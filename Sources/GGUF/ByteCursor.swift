// Provenance: GGUF primitive encodings per ggml docs/gguf.md (little-endian, u64-length strings).

/// A bounds-checked little-endian reader over mapped bytes.
///
/// Every read checks the remaining length first and throws ``GGUFError/truncated`` instead of
/// reading past the end; length-prefixed reads also check that the declared length fits.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    private mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws(GGUFError) -> Int {
        guard count <= remaining else {
            throw .truncated(what: what(), offset: offset, needed: count, available: remaining)
        }
        let start = offset
        offset += count
        return start
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
        let start = try take(MemoryLayout<T>.size, what())
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: start, as: T.self))
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws(GGUFError) -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws(GGUFError) -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// Reads a count and checks that `count × minimumElementBytes` fits in what is left, so a
    /// corrupt count can never drive a huge allocation.
    mutating func readCount(minimumElementBytes: Int, _ what: @autoclosure () -> String) throws(GGUFError) -> Int {
        let at = offset
        let declared = try read(UInt64.self, what())
        let budget = UInt64(remaining / max(minimumElementBytes, 1))
        guard declared <= budget else {
            throw .lengthTooLarge(what: what(), offset: at, declared: declared, remaining: remaining)
        }
        return Int(declared)
    }

    /// Reads a GGUF string: u64 byte length, then UTF-8 bytes (no terminator).
    mutating func readString(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let at = offset
        let length = try readCount(minimumElementBytes: 1, what())
        let start = try take(length, what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw .invalidUTF8(what: what(), offset: at)
        }
        return text
    }

    /// Moves to the next multiple of `alignment` (a power of two).
    mutating func align(to alignment: Int) {
        offset = (offset + alignment - 1) & ~(alignment - 1)
    }
}
