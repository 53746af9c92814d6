// Provenance: the safetensors format (huggingface/safetensors docs): u64 little-endian header
// length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
// {string: string}}, then the tensor bytes; offsets relative to the end of the header.
import Foundation
import Kernels

/// Errors reading a safetensors file; each names what is wrong.
public enum SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(expected: Int, actual: Int)
    case invalidHeader(String)
    case unsupportedType(tensor: String, dtype: String)
    case badExtent(tensor: String, detail: String)
    case missingTensor(String)
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .truncated(let expected, let actual): "safetensors file truncated: needs \(expected) bytes, has \(actual)"
        case .invalidHeader(let detail): "invalid safetensors header: \(detail)"
        case .unsupportedType(let tensor, let dtype): "tensor '\(tensor)' has unsupported dtype \(dtype) (F32, F16, BF16 are read)"
        case .badExtent(let tensor, let detail): "tensor '\(tensor)': \(detail)"
        case .missingTensor(let name): "tensor '\(name)' is missing"
        case .shapeMismatch(let tensor, let expected, let found): "tensor '\(tensor)' has shape \(found), expected \(expected)"
        }
    }
}

/// Named fp32 tensors in safetensors form, stored as F32, F16 or BF16.
public struct SafeTensors: Sendable {
    public enum DType: String, Sendable { case f32 = "F32", f16 = "F16", bf16 = "BF16" }

    public struct Tensor: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Float]
        public init(shape: [Int], values: [Float]) {
            precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
            self.shape = shape
            self.values = values
        }
    }

    public var tensors: [String: Tensor] = [:]
    public var metadata: [String: String] = [:]

    public init() {}

    /// The serialized file, tensors in name order, each converted to `dtype` (round to nearest even).
    public func serialized(as dtype: DType = .f32) -> Data {
        var header: [String: Any] = [:]
        var body = Data()
        for name in tensors.keys.sorted() {
            let t = tensors[name]!
            let begin = body.count
            for v in t.values {
                switch dtype {
                case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) }
                case .f16: withUnsafeBytes(of: Half.f16Bits(from: v).littleEndian) { body.append(contentsOf: $0) }
                case .bf16: withUnsafeBytes(of: Half.bf16Bits(from: v).littleEndian) { body.append(contentsOf: $0) }
                }
            }
            header[name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [begin, body.count]]
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces so the data is 8-byte aligned
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        return file + json + body
    }

    /// Parses a safetensors file, checking every extent against the file size.
    public init(data: Data) throws(SafeTensorsError) {
        guard data.count >= 8 else { throw .truncated(expected: 8, actual: data.count) }
        let length = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(data.count - 8) else {
            // A header length near 2^64 is reported as Int.max rather than overflowing.
            throw .truncated(expected: length > UInt64(Int.max - 8) ? Int.max : 8 + Int(length), actual: data.count)
        }
        let headerEnd = 8 + Int(length)
        guard let object = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)),
              let header = object as? [String: Any] else { throw .invalidHeader("not a JSON object") }
        let bodyCount = data.count - headerEnd
        for (name, entry) in header {
            if name == "__metadata__" {
                guard let m = entry as? [String: String] else { throw .invalidHeader("__metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            guard let e = entry as? [String: Any], let dtypeName = e["dtype"] as? String,
                  let shape = e["shape"] as? [Int], let offsets = e["data_offsets"] as? [Int], offsets.count == 2 else {
                throw .invalidHeader("entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName) else { throw .unsupportedType(tensor: name, dtype: dtypeName) }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw .badExtent(tensor: name, detail: "negative dimension in \(shape)") }
            // Element and byte counts are checked for overflow: a wrapped product could match the
            // offsets and then trap in Tensor's shape check or in `count * width`.
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw .badExtent(tensor: name, detail: "shape \(shape) has more elements than fit in memory") }
                count = product
            }
            let width = dtype == .f32 ? 4 : 2
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bodyCount else {
                throw .badExtent(tensor: name, detail: "data_offsets \(offsets) outside the \(bodyCount)-byte body")
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: width)
            guard !overflow, offsets[1] - offsets[0] == byteCount else {
                throw .badExtent(tensor: name, detail: "\(offsets[1] - offsets[0]) bytes for \(count) \(dtypeName) values")
            }
            let start = headerEnd + offsets[0]
            let values: [Float] = data.withUnsafeBytes { raw in
                (0..<count).map { i in
                    let at = start + i * width
                    switch dtype {
                    case .f32: return Float(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
                    case .f16: return Half.float(fromF16: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian)
                    case .bf16: return Half.float(fromBF16: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian)
                    }
                }
            }
            tensors[name] = Tensor(shape: shape, values: values)
        }
    }

    /// The tensor `name`, required to have `shape`.
    public func tensor(_ name: String, shape: [Int]) throws(SafeTensorsError) -> [Float] {
        guard let t = tensors[name] else { throw .missingTensor(name) }
        guard t.shape == shape else { throw .shapeMismatch(tensor: name, expected: shape, found: t.shape) }
        return t.values
    }
}
