// A row-major weight matrix over raw GGUF tensor bytes, dispatching to the per-format kernels.

/// Why a ``QuantizedMatrix`` could not be made.
public enum QuantError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The type has no kernels here (``GGMLType/isComputeSupported`` is false).
    case unsupportedType(GGMLType)
    /// `columns` is not a positive multiple of the type's block size, or `rows` is negative.
    case invalidShape(type: GGMLType, rows: Int, columns: Int)
    /// The byte buffer is smaller than `rows × columns` elements of the type need.
    case bufferTooSmall(needed: Int, available: Int)

    public var description: String {
        switch self {
        case .unsupportedType(let type):
            "tensor type \(type) is not supported by the compute kernels"
        case .invalidShape(let type, let rows, let columns):
            "invalid \(type) matrix shape \(rows)×\(columns) (columns must be a positive multiple of \(type.blockSize))"
        case .bufferTooSmall(let needed, let available):
            "tensor data holds \(available) bytes, \(needed) needed"
        }
    }
}

/// A read-only, row-major view of a weight matrix stored as raw GGML blocks.
///
/// Shapes: `rows` = output features, `columns` = input features. GGUF lists the dimensions
/// fastest-varying first, so a tensor with `dimensions == [columns, rows]` maps here directly.
/// Row `r` occupies bytes `r·rowBytes ..< (r + 1)·rowBytes` from `base`.
///
/// The view does not own its bytes: the caller keeps them alive (e.g. the mmapped GGUF file)
/// for as long as the matrix is used.
public struct QuantizedMatrix: @unchecked Sendable {
    // @unchecked: `base` is a pointer to immutable weight bytes; the view never writes them.

    public let base: UnsafeRawPointer
    public let type: GGMLType
    /// Output features (one dot product per row).
    public let rows: Int
    /// Input features (elements per row).
    public let columns: Int
    /// Bytes per row: `columns / type.blockSize * type.bytesPerBlock`.
    public let rowBytes: Int
    let format: any QuantFormat.Type

    /// Wraps `rows × columns` elements of `type` starting at `base`.
    ///
    /// Throws ``QuantError/unsupportedType(_:)`` for types without kernels and
    /// ``QuantError/invalidShape(type:rows:columns:)`` when a row is not whole blocks.
    public init(base: UnsafeRawPointer, type: GGMLType, rows: Int, columns: Int) throws(QuantError) {
        guard let format = type.quantFormat else { throw .unsupportedType(type) }
        guard rows >= 0, columns > 0, let rowBytes = type.byteCount(elements: columns),
            rows.multipliedReportingOverflow(by: rowBytes).overflow == false
        else { throw .invalidShape(type: type, rows: rows, columns: columns) }
        self.base = base
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.format = format
    }

    /// Wraps a tensor's bytes, checking that they hold `rows × columns` elements.
    public init(bytes: UnsafeRawBufferPointer, type: GGMLType, rows: Int, columns: Int) throws(QuantError) {
        // An empty buffer may have no address. Only an empty matrix fits in it, and that never
        // reads `base`, so a non-null placeholder stands in (the `else` cannot run).
        guard let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1) else {
            throw .bufferTooSmall(needed: 1, available: 0)
        }
        try self.init(base: base, type: type, rows: rows, columns: columns)
        guard bytes.count >= byteCount else { throw .bufferTooSmall(needed: byteCount, available: bytes.count) }
    }

    /// Total bytes of weight data.
    public var byteCount: Int { rows * rowBytes }

    /// The raw bytes of row `row`.
    @inline(__always)
    public func rowPointer(_ row: Int) -> UnsafeRawPointer {
        precondition(row >= 0 && row < rows, "row \(row) out of 0..<\(rows)")
        return base + row * rowBytes
    }

    /// Decodes row `row` into `y` (`columns` floats).
    public func dequantizeRow(_ row: Int, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count >= columns, "output holds \(y.count) floats, row has \(columns)")
        guard let out = y.baseAddress else { return }
        format.dequantizeRow(rowPointer(row), into: out, count: columns)
    }

    /// `Σ_c W[row, c] · x[c]`; `x` holds `columns` floats.
    public func dot(row: Int, with x: UnsafeBufferPointer<Float>) -> Float {
        precondition(x.count >= columns, "x holds \(x.count) floats, rows have \(columns)")
        guard let input = x.baseAddress else { return 0 }
        return format.dot(rowPointer(row), input, count: columns)
    }

    /// Below this many weight bytes per worker, `matvec` uses fewer workers: a dispatch costs a
    /// few microseconds, more than a small matrix takes on one core.
    public static let defaultMinimumBytesPerThread = 32 * 1024

    /// `y[r] = Σ_c W[r, c] · x[c]` for every row: x is `[columns]`, y is `[rows]`.
    ///
    /// Rows are split into at most `threads` contiguous ranges that run concurrently, each with
    /// at least `minimumBytesPerThread` bytes of weights (at least one row). Each `y[r]` is
    /// exactly `dot(row: r, with: x)`, whatever the split.
    public func matvec(
        x: UnsafeBufferPointer<Float>, y: UnsafeMutableBufferPointer<Float>,
        threads: Int = Parallel.defaultThreadCount,
        minimumBytesPerThread: Int = QuantizedMatrix.defaultMinimumBytesPerThread
    ) {
        precondition(x.count >= columns, "x holds \(x.count) floats, rows have \(columns)")
        precondition(y.count >= rows, "y holds \(y.count) floats, matrix has \(rows) rows")
        guard rows > 0, let input = x.baseAddress, let output = y.baseAddress else { return }
        let minimumRows = max(1, minimumBytesPerThread / rowBytes)
        matvecRows(format, input: input, output: output, threads: threads, minimumRows: minimumRows)
    }

    /// Generic over the format so that the existential is opened once per call, not per row.
    private func matvecRows<Format: QuantFormat>(
        _: Format.Type, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        threads: Int, minimumRows: Int
    ) {
        // The workers share two raw pointers, hence `nonisolated(unsafe)`: `input` is only
        // read, and each worker writes only `output[range]` for its own disjoint row range.
        nonisolated(unsafe) let input = input
        nonisolated(unsafe) let output = output
        Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: minimumRows) { range in
            for row in range {
                output[row] = Format.dot(self.base + row * self.rowBytes, input, count: self.columns)
            }
        }
    }
}
