// Provenance: writes GGUF v3 as ggml's gguf.cpp / gguf-py GGUFWriter do (metadata, infos, aligned data).
import Foundation
import Kernels

/// A minimal GGUF v3 writer: tests build tiny random models with it, and link checkpoints use it.
public struct GGUFWriter: Sendable {
    public private(set) var metadata = GGUFMetadata()
    private var tensors: [(name: String, dimensions: [Int], type: GGMLType, data: [UInt8])] = []
    public let alignment: Int

    public init(alignment: Int = GGUFFile.defaultAlignment) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
        self.alignment = alignment
        if alignment != GGUFFile.defaultAlignment { metadata.append("general.alignment", .uint32(UInt32(alignment))) }
    }

    /// Adds a metadata entry; a repeated key replaces nothing and is reported by `false`.
    @discardableResult
    public mutating func set(_ key: String, _ value: GGUFValue) -> Bool {
        metadata.append(key, value)
    }

    /// Adds a tensor from raw encoded bytes. `dimensions` are ggml order (row length first).
    public mutating func addTensor(name: String, dimensions: [Int], type: GGMLType, bytes: [UInt8]) {
        let elements = dimensions.reduce(1, *)
        precondition(type.byteCount(elements: elements) == bytes.count, "byte count does not match \(type) × \(dimensions)")
        precondition(!tensors.contains { $0.name == name }, "duplicate tensor \(name)")
        tensors.append((name, dimensions, type, bytes))
    }

    /// Adds an F32 tensor.
    public mutating func addTensor(name: String, dimensions: [Int], values: [Float]) {
        var raw = [UInt8]()
        raw.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
        addTensor(name: name, dimensions: dimensions, type: .f32, bytes: raw)
    }

    /// The complete file.
    public func serialized() -> [UInt8] {
        var e = GGUFEncoder()
        e.append(GGUFFile.magic)
        e.append(UInt32(3))
        e.append(UInt64(tensors.count))
        e.append(UInt64(metadata.count))
        for (key, value) in metadata.entries {
            e.append(key)
            e.append(value: value)
        }
        var offset = 0
        for t in tensors {
            e.append(t.name)
            e.append(UInt32(t.dimensions.count))
            for d in t.dimensions { e.append(UInt64(d)) }
            e.append(t.type.rawValue)
            e.append(UInt64(offset))
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        e.pad(to: alignment)
        for t in tensors {
            e.appendRaw(t.data)
            e.pad(to: alignment)
        }
        return e.bytes
    }

    /// Writes the file atomically (Foundation writes a temporary file, then renames it over `path`).
    public func write(to path: String) throws {
        try Data(serialized()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
