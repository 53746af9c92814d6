// Provenance: the inverse of ByteCursor; encodings per ggml docs/gguf.md.

/// Little-endian GGUF primitive encoder. ``GGUFWriter`` builds files with it; tests use it
/// directly to craft deliberately malformed headers.
public struct GGUFEncoder: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ value: Float) { append(value.bitPattern) }
    public mutating func append(_ value: Double) { append(value.bitPattern) }

    /// A GGUF string: u64 byte count then UTF-8 bytes.
    public mutating func append(_ string: String) {
        append(UInt64(string.utf8.count))
        bytes.append(contentsOf: string.utf8)
    }

    public mutating func appendRaw(_ raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    /// Pads with zeros to the next multiple of `alignment`.
    public mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    /// A typed value: u32 type id then the payload.
    public mutating func append(value: GGUFValue) {
        append(value.type.rawValue)
        appendPayload(value)
    }

    private mutating func appendPayload(_ value: GGUFValue) {
        switch value {
        case .uint8(let v): append(v)
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .uint64(let v): append(v)
        case .int64(let v): append(v)
        case .float32(let v): append(v)
        case .float64(let v): append(v)
        case .bool(let v): append(UInt8(v ? 1 : 0))
        case .string(let v): append(v)
        case .array(let a): append(array: a)
        }
    }

    /// An array payload: u32 element type, u64 count, elements.
    public mutating func append(array: GGUFArray) {
        append(array.elementType.rawValue)
        append(UInt64(array.count))
        switch array {
        case .uint8(let a): a.forEach { append($0) }
        case .int8(let a): a.forEach { append($0) }
        case .uint16(let a): a.forEach { append($0) }
        case .int16(let a): a.forEach { append($0) }
        case .uint32(let a): a.forEach { append($0) }
        case .int32(let a): a.forEach { append($0) }
        case .uint64(let a): a.forEach { append($0) }
        case .int64(let a): a.forEach { append($0) }
        case .float32(let a): a.forEach { append($0) }
        case .float64(let a): a.forEach { append($0) }
        case .bool(let a): a.forEach { append(UInt8($0 ? 1 : 0)) }
        case .string(let a): a.forEach { append($0) }
        case .array(let a): a.forEach { append(array: $0) }
        }
    }
}
