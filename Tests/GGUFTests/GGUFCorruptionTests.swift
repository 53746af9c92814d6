import GGUF
import Kernels
import Testing

/// A GGUF file assembled field by field, so each test can break exactly one thing.
struct RawGGUF {
    struct Tensor {
        var name: String
        var dims: [UInt64]
        var type: UInt32
        var offset: UInt64
    }

    var magic = GGUFFile.magic
    var version: UInt32 = 3
    var tensorCount: UInt64?
    var metadataCount: UInt64?
    /// Each entry writes a key followed by its raw type id and value bytes.
    var metadata: [(inout GGUFEncoder) -> Void] = [
        { $0.append("general.architecture"); $0.append(value: .string("llama")) }
    ]
    var tensors: [Tensor] = [Tensor(name: "w", dims: [32, 2], type: GGMLType.f32.rawValue, offset: 0)]
    var dataBytes = 256

    func bytes() -> [UInt8] {
        var e = GGUFEncoder()
        e.append(magic)
        e.append(version)
        e.append(tensorCount ?? UInt64(tensors.count))
        e.append(metadataCount ?? UInt64(metadata.count))
        for write in metadata { write(&e) }
        for t in tensors {
            e.append(t.name)
            e.append(UInt32(t.dims.count))
            for d in t.dims { e.append(d) }
            e.append(t.type)
            e.append(t.offset)
        }
        e.pad(to: 32)
        e.appendRaw(repeatElement(0, count: dataBytes))
        return e.bytes
    }

    static func entry(_ key: String, _ value: GGUFValue) -> (inout GGUFEncoder) -> Void {
        { $0.append(key); $0.append(value: value) }
    }
}

/// Every way a file can be malformed, and the exact error each must produce.
enum Corruption: CaseIterable, Sendable {
    case badMagic, versionOne, versionFour, bigEndian, emptyFile, truncatedHeader, truncatedMetadata
    case truncatedTensorData, hugeStringLength, hugeArrayLength, hugeTensorCount, hugeMetadataCount
    case duplicateKey, duplicateTensor, misalignedDataOffset, alignmentNotPowerOfTwo, alignmentZero
    case alignmentWrongType, tooManyDimensions, negativeDimension, dimensionsOverflow, unknownTensorType
    case removedTensorType, tensorPastEndOfFile, unknownValueType, unknownArrayElementType, invalidUTF8Key
    case arraysNestedTooDeep, overlappingTensors, rowNotBlockMultiple

    func build() -> [UInt8] {
        var f = RawGGUF()
        switch self {
        case .badMagic: f.magic = 0x4C4C_4747
        case .versionOne: f.version = 1
        case .versionFour: f.version = 4
        case .bigEndian: f.version = 0x0300_0000
        case .emptyFile: return []
        case .truncatedHeader: return Array(f.bytes().prefix(10))
        case .truncatedMetadata: return Array(f.bytes().prefix(40))
        case .truncatedTensorData: f.dataBytes = 255
        case .hugeStringLength:
            f.metadata = [{ $0.append(UInt64(1) << 62); $0.appendRaw("key".utf8) }]
        case .hugeArrayLength:
            f.metadata = [{ $0.append("tokens"); $0.append(GGUFValueType.array.rawValue)
                $0.append(GGUFValueType.string.rawValue); $0.append(UInt64(1) << 40) }]
        case .hugeTensorCount: f.tensorCount = UInt64(1) << 60
        case .hugeMetadataCount: f.metadataCount = .max
        case .duplicateKey: f.metadata += [RawGGUF.entry("general.architecture", .string("qwen2"))]
        case .duplicateTensor: f.tensors.append(.init(name: "w", dims: [32], type: 0, offset: 256))
        case .misalignedDataOffset: f.tensors[0].offset = 4
        case .alignmentNotPowerOfTwo: f.metadata.append(RawGGUF.entry("general.alignment", .uint32(48)))
        case .alignmentZero: f.metadata.append(RawGGUF.entry("general.alignment", .uint32(0)))
        case .alignmentWrongType: f.metadata.append(RawGGUF.entry("general.alignment", .string("32")))
        case .tooManyDimensions: f.tensors[0].dims = [32, 1, 1, 1, 2]
        case .negativeDimension: f.tensors[0].dims = [32, UInt64(bitPattern: -2)]
        case .dimensionsOverflow: f.tensors[0].dims = [UInt64(1) << 40, UInt64(1) << 40]
        case .unknownTensorType: f.tensors[0].type = 200
        case .removedTensorType: f.tensors[0].type = 4  // Q4_2, removed from ggml
        case .tensorPastEndOfFile: f.tensors[0].offset = 1 << 20
        case .unknownValueType: f.metadata.append { $0.append("bad"); $0.append(UInt32(13)) }
        case .unknownArrayElementType:
            f.metadata.append { $0.append("bad"); $0.append(GGUFValueType.array.rawValue); $0.append(UInt32(99)); $0.append(UInt64(0)) }
        case .invalidUTF8Key: f.metadata = [{ $0.append(UInt64(2)); $0.appendRaw([0xC3, 0x28]); $0.append(value: .bool(true)) }]
        case .arraysNestedTooDeep:
            f.metadata = [{ e in
                e.append("deep")
                e.append(GGUFValueType.array.rawValue)
                for _ in 0..<20 { e.append(GGUFValueType.array.rawValue); e.append(UInt64(1)) }
                e.append(GGUFValueType.uint8.rawValue); e.append(UInt64(0))
            }]
        case .overlappingTensors: f.tensors.append(.init(name: "v", dims: [32], type: 0, offset: 128))
        case .rowNotBlockMultiple: f.tensors[0] = .init(name: "q", dims: [31, 2], type: GGMLType.q4_0.rawValue, offset: 0)
        }
        return f.bytes()
    }

    var expected: GGUFError {
        switch self {
        case .badMagic: .badMagic(found: 0x4C4C_4747)
        case .versionOne: .unsupportedVersion(1)
        case .versionFour: .unsupportedVersion(4)
        case .bigEndian: .unsupportedVersion(0x0300_0000)
        case .emptyFile: .truncated(what: "magic", offset: 0, needed: 4, available: 0)
        case .truncatedHeader: .truncated(what: "tensor count", offset: 8, needed: 8, available: 2)
        case .truncatedMetadata: .lengthTooLarge(what: "metadata key", offset: 24, declared: 20, remaining: 8)
        case .truncatedTensorData: .tensorOutOfBounds(tensor: "w", start: 0, byteCount: 256, fileSize: 383)
        case .hugeStringLength: .lengthTooLarge(what: "metadata key", offset: 24, declared: 1 << 62, remaining: 320)
        case .hugeArrayLength:
            .lengthTooLarge(what: "array length of 'tokens'", offset: 46, declared: 1 << 40, remaining: 298)
        case .hugeTensorCount: .lengthTooLarge(what: "tensor count", offset: 8, declared: 1 << 60, remaining: 368)
        case .hugeMetadataCount: .lengthTooLarge(what: "metadata count", offset: 16, declared: .max, remaining: 360)
        case .duplicateKey: .duplicateKey("general.architecture", offset: 69)
        case .duplicateTensor: .duplicateTensor("w", offset: 110)
        case .misalignedDataOffset: .misalignedTensorOffset(tensor: "w", offset: 4, alignment: 32)
        case .alignmentNotPowerOfTwo: .badAlignment(48)
        case .alignmentZero: .badAlignment(0)
        case .alignmentWrongType: .wrongValueType(key: "general.alignment", expected: "uint32", found: "string")
        case .tooManyDimensions: .tooManyDimensions(tensor: "w", count: 5)
        case .negativeDimension: .invalidDimension(tensor: "w", index: 1, value: -2)
        case .dimensionsOverflow: .dimensionsOverflow(tensor: "w")
        case .unknownTensorType: .unknownTensorType(tensor: "w", raw: 200)
        case .removedTensorType: .unknownTensorType(tensor: "w", raw: 4)
        case .tensorPastEndOfFile: .tensorOutOfBounds(tensor: "w", start: 1 << 20, byteCount: 256, fileSize: 384)
        case .unknownValueType: .unknownValueType(key: "bad", offset: 80, raw: 13)
        case .unknownArrayElementType: .unknownValueType(key: "bad", offset: 84, raw: 99)
        case .invalidUTF8Key: .invalidUTF8(what: "metadata key", offset: 24)
        case .arraysNestedTooDeep: .nestingTooDeep(key: "deep", offset: 136)
        case .overlappingTensors: .overlappingTensors("w", "v")
        case .rowNotBlockMultiple: .rowNotBlockMultiple(tensor: "q", type: "q4_0", rowLength: 31, blockSize: 32)
        }
    }
}

@Suite("GGUF corruption suite")
struct GGUFCorruptionTests {
    @Test("each corruption yields its typed error", arguments: Corruption.allCases)
    func corruptionIsRejected(_ corruption: Corruption) {
        #expect(throws: corruption.expected) { try GGUFFile(bytes: corruption.build()) }
    }

    @Test func theUncorruptedBaseParses() throws {
        let file = try GGUFFile(bytes: RawGGUF().bytes())
        #expect(file.tensors.count == 1 && file.metadata.string("general.architecture") == "llama")
    }

    @Test func everyTruncationIsATypedError() throws {
        var writer = GGUFWriter()
        for (k, v) in GGUFRoundTripTests.sampleMetadata() { writer.set(k, v) }
        writer.addTensor(name: "t", dimensions: [32, 3], type: .q4_0, bytes: Array(repeating: 7, count: 54))
        let full = writer.serialized()
        let tensor = try #require(try GGUFFile(bytes: full).tensor(named: "t"))
        // Every prefix that cuts the header or the tensor's bytes (trailing padding may go).
        for length in 0..<(tensor.fileOffset + tensor.byteCount) {
            #expect(throws: GGUFError.self, "prefix of \(length) bytes") { try GGUFFile(bytes: full.prefix(length)) }
        }
    }

    /// Seeded byte flips over a valid file: parsing may succeed or throw, but never crash or hang.
    @Test func randomByteFlipsNeverCrash() throws {
        var writer = GGUFWriter()
        for (k, v) in GGUFRoundTripTests.sampleMetadata() { writer.set(k, v) }
        writer.addTensor(name: "t", dimensions: [32, 3], type: .q8_0, bytes: Array(repeating: 1, count: 102))
        let base = writer.serialized()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {  // splitmix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var rejected = 0
        for _ in 0..<3000 {
            var bytes = base
            for _ in 0..<(1 + Int(next() % 4)) {
                bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next())
            }
            do { _ = try GGUFFile(bytes: bytes) } catch { rejected += 1 }
        }
        #expect(rejected > 0)
    }
}
