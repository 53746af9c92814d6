// Provenance: GGUF v2/v3 layout per ggml docs/gguf.md and gguf.cpp (gguf_init_from_file_impl):
//   u32 magic "GGUF" | u32 version | u64 tensor count | u64 metadata count
//   metadata: string key, u32 value type, value (arrays: u32 element type, u64 count, elements)
//   tensor infos: string name, u32 n_dims, u64 dims[n_dims] (fastest first), u32 type, u64 offset
//   padding to `general.alignment` (default 32), then the data section; offsets are relative to it.
import Kernels

/// A parsed, validated GGUF file whose tensor bytes stay in the mapping (zero copy).
public final class GGUFFile: Sendable {
    public static let magic: UInt32 = 0x4655_4747  // "GGUF" read little-endian
    public static let defaultAlignment = 32
    static let maximumDimensions = 4
    static let maximumArrayNesting = 8

    public let storage: MappedFile
    public let version: UInt32
    public let metadata: GGUFMetadata
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// File offset of the data section.
    public let dataOffset: Int
    private let tensorIndex: [String: Int]

    /// Maps and parses the file at `path`.
    public convenience init(path: String) throws(GGUFError) {
        try self.init(storage: MappedFile(path: path))
    }

    /// Parses GGUF bytes already in memory (tests, fuzzing).
    public convenience init(bytes: some Collection<UInt8>) throws(GGUFError) {
        try self.init(storage: MappedFile(copying: bytes))
    }

    public init(storage: MappedFile) throws(GGUFError) {
        self.storage = storage
        var cursor = ByteCursor(storage.bytes)

        let magic = try cursor.read(UInt32.self, "magic")
        guard magic == Self.magic else { throw .badMagic(found: magic) }
        version = try cursor.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }

        // Each tensor info needs ≥ 8 (name) + 4 (n_dims) + 4 (type) + 8 (offset) bytes,
        // each metadata entry ≥ 8 (key) + 4 (type) + 1 (value).
        let tensorCount = try cursor.readCount(minimumElementBytes: 24, "tensor count")
        let metadataCount = try cursor.readCount(minimumElementBytes: 13, "metadata count")

        var metadata = GGUFMetadata()
        for _ in 0..<metadataCount {
            let at = cursor.offset
            let key = try cursor.readString("metadata key")
            let value = try Self.readValue(&cursor, key: key, depth: 0)
            guard metadata.append(key, value) else { throw .duplicateKey(key, offset: at) }
        }
        self.metadata = metadata

        alignment = try Self.alignment(of: metadata)

        var tensors: [GGUFTensorInfo] = []
        var tensorIndex: [String: Int] = [:]
        var rawInfos: [(name: String, dims: [Int], type: GGMLType, offset: UInt64)] = []
        for _ in 0..<tensorCount {
            let at = cursor.offset
            let info = try Self.readTensorInfo(&cursor)
            guard tensorIndex[info.name] == nil else { throw .duplicateTensor(info.name, offset: at) }
            tensorIndex[info.name] = rawInfos.count
            rawInfos.append(info)
        }
        cursor.align(to: alignment)
        dataOffset = cursor.offset
        let fileSize = storage.bytes.count

        for info in rawInfos {
            tensors.append(try Self.locate(info, dataOffset: dataOffset, alignment: alignment, fileSize: fileSize))
        }
        try Self.checkNoOverlap(tensors)
        self.tensors = tensors
        self.tensorIndex = tensorIndex
    }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's bytes inside the mapping; valid while this file object is alive.
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage.bytes[tensor.fileOffset..<(tensor.fileOffset + tensor.byteCount)])
    }

    /// Size of the whole file in bytes.
    public var fileSize: Int { storage.bytes.count }

    // MARK: - Parsing helpers

    private static func alignment(of metadata: GGUFMetadata) throws(GGUFError) -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard case .uint32(let raw) = value else {
            throw .wrongValueType(key: "general.alignment", expected: "uint32", found: "\(value.type)")
        }
        guard raw > 0, raw & (raw - 1) == 0 else { throw .badAlignment(UInt64(raw)) }
        return Int(raw)
    }

    private static func readTensorInfo(
        _ cursor: inout ByteCursor
    ) throws(GGUFError) -> (name: String, dims: [Int], type: GGMLType, offset: UInt64) {
        let name = try cursor.readString("tensor name")
        let dimensionCount = try cursor.read(UInt32.self, "dimension count of '\(name)'")
        guard dimensionCount <= UInt32(maximumDimensions) else {
            throw .tooManyDimensions(tensor: name, count: dimensionCount)
        }
        var dims: [Int] = []
        for index in 0..<Int(dimensionCount) {
            let raw = Int64(bitPattern: try cursor.read(UInt64.self, "dimension \(index) of '\(name)'"))
            guard raw >= 0 else { throw .invalidDimension(tensor: name, index: index, value: raw) }
            dims.append(Int(raw))
        }
        let rawType = try cursor.read(UInt32.self, "type of '\(name)'")
        guard let type = GGMLType(rawValue: rawType) else {
            throw .unknownTensorType(tensor: name, raw: rawType)
        }
        let offset = try cursor.read(UInt64.self, "data offset of '\(name)'")
        return (name, dims, type, offset)
    }

    private static func locate(
        _ info: (name: String, dims: [Int], type: GGMLType, offset: UInt64),
        dataOffset: Int, alignment: Int, fileSize: Int
    ) throws(GGUFError) -> GGUFTensorInfo {
        var elements = 1
        for d in info.dims {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .dimensionsOverflow(tensor: info.name) }
            elements = product
        }
        let rowLength = info.dims.first ?? 1
        guard rowLength % info.type.blockSize == 0 else {
            throw .rowNotBlockMultiple(
                tensor: info.name, type: info.type.description, rowLength: rowLength,
                blockSize: info.type.blockSize)
        }
        guard let byteCount = info.type.byteCount(elements: elements) else {
            throw .dimensionsOverflow(tensor: info.name)
        }
        guard info.offset % UInt64(alignment) == 0 else {
            throw .misalignedTensorOffset(tensor: info.name, offset: info.offset, alignment: alignment)
        }
        let available = dataOffset <= fileSize ? UInt64(fileSize - dataOffset) : 0
        guard dataOffset <= fileSize, info.offset <= available, UInt64(byteCount) <= available - info.offset else {
            throw .tensorOutOfBounds(tensor: info.name, start: info.offset, byteCount: byteCount, fileSize: fileSize)
        }
        return GGUFTensorInfo(
            name: info.name, dimensions: info.dims, type: info.type, offset: Int(info.offset),
            fileOffset: dataOffset + Int(info.offset), elementCount: elements, byteCount: byteCount)
    }

    private static func checkNoOverlap(_ tensors: [GGUFTensorInfo]) throws(GGUFError) {
        let sorted = tensors.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.offset + previous.byteCount > next.offset {
            throw .overlappingTensors(previous.name, next.name)
        }
    }
}
