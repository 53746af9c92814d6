// Provenance: the rejection list mirrors ggml's gguf.cpp reader checks (gguf_init_from_file_impl).

/// Everything that can be wrong with a GGUF file, each case naming what and where.
///
/// Offsets are byte offsets from the start of the file. The reader checks every length, count,
/// offset and dimension against the bytes actually present before using or allocating anything.
public enum GGUFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case cannotOpen(path: String, reason: String)
    /// The first four bytes are not `GGUF`.
    case badMagic(found: UInt32)
    /// The version is not 2 or 3 (or the file is big-endian).
    case unsupportedVersion(UInt32)
    /// A read of `needed` bytes at `offset` ran past the end of the file.
    case truncated(what: String, offset: Int, needed: Int, available: Int)
    /// A declared string/array length or count cannot fit in the remaining bytes.
    case lengthTooLarge(what: String, offset: Int, declared: UInt64, remaining: Int)
    /// A string is not valid UTF-8.
    case invalidUTF8(what: String, offset: Int)
    /// A metadata value type id outside GGUF's 0…12.
    case unknownValueType(key: String, offset: Int, raw: UInt32)
    /// Arrays nested deeper than the reader accepts.
    case nestingTooDeep(key: String, offset: Int)
    /// The same metadata key appears twice.
    case duplicateKey(String, offset: Int)
    /// The same tensor name appears twice.
    case duplicateTensor(String, offset: Int)
    /// A well-known key holds a value of the wrong type (e.g. `general.alignment` not u32).
    case wrongValueType(key: String, expected: String, found: String)
    /// `general.alignment` is zero or not a power of two.
    case badAlignment(UInt64)
    /// A tensor declares more than four dimensions.
    case tooManyDimensions(tensor: String, count: UInt32)
    /// A dimension is negative (as a signed 64-bit value).
    case invalidDimension(tensor: String, index: Int, value: Int64)
    /// The element count or byte size overflows.
    case dimensionsOverflow(tensor: String)
    /// The tensor type id is not a ggml type.
    case unknownTensorType(tensor: String, raw: UInt32)
    /// The row length is not a whole number of quantization blocks.
    case rowNotBlockMultiple(tensor: String, type: GGMLTypeName, rowLength: Int, blockSize: Int)
    /// A tensor's data offset is not a multiple of the file's alignment.
    case misalignedTensorOffset(tensor: String, offset: UInt64, alignment: Int)
    /// A tensor's bytes extend past the end of the file.
    case tensorOutOfBounds(tensor: String, start: UInt64, byteCount: Int, fileSize: Int)
    /// Two tensors' byte ranges overlap.
    case overlappingTensors(String, String)

    /// The ggml name of a tensor type, kept as a string so the error stays `Equatable` and plain.
    public typealias GGMLTypeName = String

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open GGUF file '\(path)': \(reason)"
        case .badMagic(let found):
            "not a GGUF file: magic is 0x\(String(found, radix: 16)), expected 'GGUF' (0x46554747)"
        case .unsupportedVersion(let version):
            "unsupported GGUF version \(version) (supported: 2, 3; big-endian files are not supported)"
        case .truncated(let what, let offset, let needed, let available):
            "file truncated: reading \(what) at byte \(offset) needs \(needed) bytes, \(available) left"
        case .lengthTooLarge(let what, let offset, let declared, let remaining):
            "\(what) at byte \(offset) declares length \(declared), but only \(remaining) bytes remain"
        case .invalidUTF8(let what, let offset):
            "\(what) at byte \(offset) is not valid UTF-8"
        case .unknownValueType(let key, let offset, let raw):
            "metadata '\(key)' at byte \(offset) has unknown value type \(raw)"
        case .nestingTooDeep(let key, let offset):
            "metadata '\(key)' at byte \(offset) nests arrays too deeply"
        case .duplicateKey(let key, let offset):
            "duplicate metadata key '\(key)' at byte \(offset)"
        case .duplicateTensor(let name, let offset):
            "duplicate tensor '\(name)' at byte \(offset)"
        case .wrongValueType(let key, let expected, let found):
            "metadata '\(key)' should be \(expected) but is \(found)"
        case .badAlignment(let value):
            "general.alignment = \(value) is not a non-zero power of two"
        case .tooManyDimensions(let tensor, let count):
            "tensor '\(tensor)' has \(count) dimensions; at most 4 are allowed"
        case .invalidDimension(let tensor, let index, let value):
            "tensor '\(tensor)' dimension \(index) is \(value); dimensions must be non-negative"
        case .dimensionsOverflow(let tensor):
            "tensor '\(tensor)': element count or byte size overflows"
        case .unknownTensorType(let tensor, let raw):
            "tensor '\(tensor)' has unknown ggml type id \(raw)"
        case .rowNotBlockMultiple(let tensor, let type, let rowLength, let blockSize):
            "tensor '\(tensor)' (\(type)) has row length \(rowLength), not a multiple of its block size \(blockSize)"
        case .misalignedTensorOffset(let tensor, let offset, let alignment):
            "tensor '\(tensor)' data offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tensorOutOfBounds(let tensor, let start, let byteCount, let fileSize):
            "tensor '\(tensor)' spans \(byteCount) bytes from data offset \(start), past the end of the \(fileSize)-byte file"
        case .overlappingTensors(let a, let b):
            "tensors '\(a)' and '\(b)' have overlapping data"
        }
    }
}
