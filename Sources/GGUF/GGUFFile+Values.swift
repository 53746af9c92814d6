// Provenance: value encodings per ggml docs/gguf.md (bool is one byte; arrays are typed and may nest).

extension GGUFFile {
    static func readValue(_ cursor: inout ByteCursor, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        let at = cursor.offset
        let raw = try cursor.read(UInt32.self, "value type of '\(key)'")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw .unknownValueType(key: key, offset: at, raw: raw)
        }
        return try readValue(&cursor, type: type, key: key, depth: depth)
    }

    private static func readValue(
        _ cursor: inout ByteCursor, type: GGUFValueType, key: String, depth: Int
    ) throws(GGUFError) -> GGUFValue {
        let what = "value of '\(key)'"
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, what))
        case .int8: return .int8(try cursor.read(Int8.self, what))
        case .uint16: return .uint16(try cursor.read(UInt16.self, what))
        case .int16: return .int16(try cursor.read(Int16.self, what))
        case .uint32: return .uint32(try cursor.read(UInt32.self, what))
        case .int32: return .int32(try cursor.read(Int32.self, what))
        case .uint64: return .uint64(try cursor.read(UInt64.self, what))
        case .int64: return .int64(try cursor.read(Int64.self, what))
        case .float32: return .float32(try cursor.readFloat(what))
        case .float64: return .float64(try cursor.readDouble(what))
        case .bool: return .bool(try cursor.read(UInt8.self, what) != 0)
        case .string: return .string(try cursor.readString(what))
        case .array: return .array(try readArray(&cursor, key: key, depth: depth + 1))
        }
    }

    private static func readArray(_ cursor: inout ByteCursor, key: String, depth: Int) throws(GGUFError) -> GGUFArray {
        let at = cursor.offset
        guard depth <= maximumArrayNesting else { throw .nestingTooDeep(key: key, offset: at) }
        let raw = try cursor.read(UInt32.self, "array element type of '\(key)'")
        guard let elementType = GGUFValueType(rawValue: raw) else {
            throw .unknownValueType(key: key, offset: at, raw: raw)
        }
        let count = try cursor.readCount(
            minimumElementBytes: elementType.minimumEncodedSize, "array length of '\(key)'")
        let what = "array '\(key)'"

        func many<T>(_ read: (inout ByteCursor) throws(GGUFError) -> T) throws(GGUFError) -> [T] {
            var values: [T] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try read(&cursor)) }
            return values
        }
        switch elementType {
        case .uint8: return .uint8(try many { c throws(GGUFError) in try c.read(UInt8.self, what) })
        case .int8: return .int8(try many { c throws(GGUFError) in try c.read(Int8.self, what) })
        case .uint16: return .uint16(try many { c throws(GGUFError) in try c.read(UInt16.self, what) })
        case .int16: return .int16(try many { c throws(GGUFError) in try c.read(Int16.self, what) })
        case .uint32: return .uint32(try many { c throws(GGUFError) in try c.read(UInt32.self, what) })
        case .int32: return .int32(try many { c throws(GGUFError) in try c.read(Int32.self, what) })
        case .uint64: return .uint64(try many { c throws(GGUFError) in try c.read(UInt64.self, what) })
        case .int64: return .int64(try many { c throws(GGUFError) in try c.read(Int64.self, what) })
        case .float32: return .float32(try many { c throws(GGUFError) in try c.readFloat(what) })
        case .float64: return .float64(try many { c throws(GGUFError) in try c.readDouble(what) })
        case .bool: return .bool(try many { c throws(GGUFError) in try c.read(UInt8.self, what) != 0 })
        case .string: return .string(try many { c throws(GGUFError) in try c.readString(what) })
        case .array:
            return .array(try many { c throws(GGUFError) in try readArray(&c, key: key, depth: depth + 1) })
        }
    }
}
