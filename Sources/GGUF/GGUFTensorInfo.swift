import Kernels

/// One entry of a GGUF tensor directory.
///
/// `dimensions` are in ggml order, **fastest-varying first**: `dimensions[0]` is the row length.
/// A PyTorch weight of shape `[out, in]` is therefore stored as `[in, out]`, and its rows (one
/// per output feature) are contiguous runs of `dimensions[0]` elements.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let dimensions: [Int]
    public let type: GGMLType
    /// Offset of the tensor's first byte relative to the start of the data section.
    public let offset: Int
    /// Offset of the tensor's first byte from the start of the file.
    public let fileOffset: Int
    public let elementCount: Int
    public let byteCount: Int

    /// Elements per row (`dimensions[0]`, or 1 for a scalar).
    public var rowLength: Int { dimensions.first ?? 1 }
    /// Number of rows: the product of all dimensions after the first.
    public var rowCount: Int { dimensions.dropFirst().reduce(1, *) }
}
