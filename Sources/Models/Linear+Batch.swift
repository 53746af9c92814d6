// A weight matrix applied to the stacked rows of several sequences at once (batched inference):
// each sequence's rows take exactly the path a call with that sequence alone takes, so results
// are bit-for-bit unchanged by batching; what batching saves is the weight traffic of the
// single-position rows, which share one pass over the weights.
import Kernels

/// One sequence's rows in a batched call: rows `start ..< start + count` of the stacked input
/// and output, entering with `precision` (as ``Linear/forward(_:rows:_:threads:precision:)``).
public struct RowSegment: Sendable, Equatable {
    public var start: Int
    public var count: Int
    public var precision: ActivationPrecision

    public init(start: Int, count: Int, precision: ActivationPrecision) {
        self.start = start
        self.count = count
        self.precision = precision
    }
}

extension Linear {
    /// `y [R × out] = x [R × in] · Wᵀ` over the stacked rows of `segments`: every segment's rows
    /// equal ``forward(_:rows:_:threads:precision:)`` of that segment alone. Segments of at most
    /// ``matvecPositionLimit`` rows are gathered into one several-vector product per precision
    /// (weights read once; `.int8Tiled` rows into one tiled product); longer ones (prefill
    /// chunks) run their own GEMM. A single segment is exactly the unbatched call.
    public func forward(_ x: UnsafePointer<Float>, segments: [RowSegment], _ y: UnsafeMutablePointer<Float>, threads: Int) {
        if segments.count == 1, let s = segments.first {
            forward(x + s.start * inputs, rows: s.count, y + s.start * outputs, threads: threads, precision: s.precision)
            return
        }
        var int8Rows: [Int] = [], floatRows: [Int] = [], tiledRows: [Int] = []
        let tiled = segments.contains { $0.precision.vectors == .int8Tiled && $0.count <= Self.matvecPositionLimit }
            ? tiledWeights(threads: threads) : nil
        for s in segments {
            if s.count > Self.matvecPositionLimit {
                forward(x + s.start * inputs, rows: s.count, y + s.start * outputs, threads: threads, precision: s.precision)
            } else if s.precision.vectors == .int8Tiled, tiled != nil {
                tiledRows += s.start..<(s.start + s.count)
            } else if s.precision.vectors != .float32, hasFastInt8Path {
                int8Rows += s.start..<(s.start + s.count)
            } else {
                floatRows += s.start..<(s.start + s.count)
            }
        }
        if !tiledRows.isEmpty, let tiled {
            tiled.matvec(vectors: tiledRows.map { x + $0 * inputs }, outputs: tiledRows.map { y + $0 * outputs }, threads: threads)
        }
        if !floatRows.isEmpty {
            matrix.matvec(vectors: floatRows.map { x + $0 * inputs }, outputs: floatRows.map { y + $0 * outputs }, threads: threads)
        }
        guard !int8Rows.isEmpty else { return }
        let bytes = matrix.quantizedActivationByteCount
        withUnsafeTemporaryAllocation(byteCount: bytes * int8Rows.count, alignment: 64) { scratch in
            var activations: [UnsafeRawPointer] = []
            activations.reserveCapacity(int8Rows.count)
            for (v, row) in int8Rows.enumerated() {
                let slot = UnsafeMutableRawBufferPointer(rebasing: scratch[(v * bytes)..<((v + 1) * bytes)])
                matrix.quantizeActivations(UnsafeBufferPointer(start: x + row * inputs, count: inputs), into: slot)
                activations.append(UnsafeRawPointer(slot.baseAddress!))
            }
            matrix.matvecQuantized(activations: activations, outputs: int8Rows.map { y + $0 * outputs }, threads: threads)
        }
    }
}
