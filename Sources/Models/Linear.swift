import Foundation
import Kernels

/// A frozen weight matrix `W [out × in]` (one GGUF row per output feature) applied as `y = x Wᵀ`.
///
/// Single positions (decode, latent steps) use the quantized matvec kernels, which stream the
/// compact weights. Several positions at once (prefill, training) use fp32 GEMM on a dequantized
/// copy made on first use and kept: the measured trade of memory for prefill speed
/// (perf-anchors.md: fp32 GEMM reaches ~400 GFLOP/s here, quantized dot paths ~100). With the
/// system OpenBLAS that copy is the plain `[out × in]` matrix; with the built-in GEMM it is packed
/// into panels once (``PackedMatrix``), one copy for `x·Wᵀ` and, on first backward, one for `dy·W`.
public final class Linear: @unchecked Sendable {
    public let matrix: QuantizedMatrix
    public var outputs: Int { matrix.rows }
    public var inputs: Int { matrix.columns }

    // The dense copy is created once under `lock` and then only read.
    private let lock = NSLock()
    private var dense: UnsafeMutablePointer<Float>?
    private var packedForward: PackedMatrix?, packedBackward: PackedMatrix?
    /// `packedForward` and `packedBackward` in bfloat16 (prefill or training whose
    /// ``ActivationPrecision/matrices`` are bfloat16).
    private var packedForwardApproximate: PackedMatrix?, packedBackwardApproximate: PackedMatrix?
    /// The 16-row int8 tiles of `.int8Tiled` single positions (made on first use).
    private var tiled: TiledInt8Matrix?

    /// Positions at or below which `forward` streams quantized weights instead of using GEMM.
    public static let matvecPositionLimit = 2

    init(_ matrix: QuantizedMatrix) {
        self.matrix = matrix
        hasFastInt8Path = matrix.supportsQuantizedActivations && QuantizedMatrix.quantizedActivationsAreAccelerated
        canTile = TiledInt8Matrix.supports(matrix.type)
    }

    deinit { dense?.deallocate() }

    /// Whether single positions take the 8-bit-activation path under `precision`.
    let hasFastInt8Path: Bool
    /// Whether `.int8Tiled` single positions run on tiles (else on the `.int8` kernels).
    let canTile: Bool

    /// `y [T × out] = x [T × in] · Wᵀ`.
    public func forward(
        _ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>, threads: Int,
        precision: ActivationPrecision = .float32
    ) {
        if rows <= Self.matvecPositionLimit, precision.vectors == .int8Tiled, let tiled = tiledWeights(threads: threads) {
            for t in 0..<rows { tiled.matvec(x + t * inputs, y + t * outputs, threads: threads) }
        } else if rows <= Self.matvecPositionLimit, precision.vectors != .float32, hasFastInt8Path {
            for t in 0..<rows {
                matrix.matvecQuantized(
                    x: UnsafeBufferPointer(start: x + t * inputs, count: inputs),
                    y: UnsafeMutableBufferPointer(start: y + t * outputs, count: outputs), threads: threads)
            }
        } else if rows <= Self.matvecPositionLimit {
            for t in 0..<rows {
                matrix.matvec(
                    x: UnsafeBufferPointer(start: x + t * inputs, count: inputs),
                    y: UnsafeMutableBufferPointer(start: y + t * outputs, count: outputs), threads: threads)
            }
        } else if BLAS.backend == .builtin || precision.gemmFormat != .float32 {
            // (bf16 outruns a system BLAS too: its fp32 FMA peak is our fp32 tile's, half of vdpbf16ps's on Zen 4.)
            PackedGEMM.multiply(m: rows, a: x, lda: inputs, b: packed(transposed: false, format: precision.gemmFormat, threads: threads),
                                c: y, ldc: outputs, threads: threads)
        } else {
            BLAS.gemm(m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: denseWeights(threads: threads),
                      ldb: inputs, transposeB: true, c: y, ldc: outputs)
        }
    }

    /// Gradient with respect to the input of ``forward(_:rows:_:threads:precision:)`` (W frozen):
    /// `dx [T × in] = dy [T × out] · W`, written or, with `accumulate`, added, in the format the
    /// forward of `rows` rows under `precision` used: fp32 GEMM on the dense copy (which
    /// multi-position forwards create anyway) for rows the forward took through the fp32 matvec
    /// or an fp32 GEMM, the built-in GEMM on a bfloat16 copy where it took bfloat16.
    public func backwardInput(
        _ dy: UnsafePointer<Float>, rows: Int, _ dx: UnsafeMutablePointer<Float>, accumulate: Bool = false,
        precision: ActivationPrecision = .float32, threads: Int = Parallel.defaultThreadCount
    ) {
        let format = rows <= Self.matvecPositionLimit ? .float32 : precision.gemmFormat
        if BLAS.backend == .builtin || format != .float32 {
            PackedGEMM.multiply(m: rows, a: dy, lda: outputs, b: packed(transposed: true, format: format, threads: threads),
                                beta: accumulate ? 1 : 0, c: dx, ldc: inputs, threads: threads)
            return
        }
        BLAS.gemm(m: rows, n: inputs, k: outputs, a: dy, lda: outputs, b: denseWeights(threads: threads), ldb: inputs,
                  transposeB: false, beta: accumulate ? 1 : 0, c: dx, ldc: inputs)
    }

    /// The fp32 copy of W `[out × in]`, dequantized on first call.
    public func denseWeights(threads: Int = Parallel.defaultThreadCount) -> UnsafePointer<Float> {
        lock.lock()
        defer { lock.unlock() }
        if let dense { return UnsafePointer(dense) }
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: outputs * inputs)
        nonisolated(unsafe) let target = buffer  // each worker fills its own rows
        let (m, n) = (matrix, inputs)
        Parallel.forEachChunk(count: outputs, threads: threads, minimumChunk: 64) { range in
            for r in range { m.dequantizeRow(r, into: UnsafeMutableBufferPointer(start: target + r * n, count: n)) }
        }
        dense = buffer
        return UnsafePointer(buffer)
    }

    /// The tiled int8 copy of W for `.int8Tiled` single positions, made on first call; nil for
    /// weight formats without one.
    func tiledWeights(threads: Int) -> TiledInt8Matrix? {
        guard canTile else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if tiled == nil { tiled = TiledInt8Matrix(matrix, threads: threads) }
        return tiled
    }

    /// W packed for the built-in GEMM in `format`, on first call: as `B = Wᵀ [in × out]` for
    /// `x·Wᵀ`, or (`transposed`) as `B = W [out × in]` for `dy·W`. Rows are dequantized in chunks
    /// on `threads` threads, each packing its own rows (chunks of 64 rows: whole bfloat16 pairs).
    func packed(transposed: Bool, format: GEMMFormat, threads: Int) -> PackedMatrix {
        lock.lock()
        defer { lock.unlock() }
        let approximate = format != .float32
        let existing = transposed ? (approximate ? packedBackwardApproximate : packedBackward)
                                  : (approximate ? packedForwardApproximate : packedForward)
        if let existing { return existing }
        let target = transposed ? PackedMatrix(format: format, k: outputs, n: inputs)
                                : PackedMatrix(format: format, k: inputs, n: outputs)
        let (m, n) = (matrix, inputs)
        Parallel.forEachChunk(count: outputs, threads: threads, minimumChunk: 64) { range in
            let chunk = 64
            let rows = UnsafeMutablePointer<Float>.allocate(capacity: chunk * n)
            defer { rows.deallocate() }
            for r0 in stride(from: range.lowerBound, to: range.upperBound, by: chunk) {
                let count = min(chunk, range.upperBound - r0)
                for r in 0..<count { m.dequantizeRow(r0 + r, into: UnsafeMutableBufferPointer(start: rows + r * n, count: n)) }
                if transposed {
                    target.pack(rows, kStride: n, jStride: 1, k0: r0, kCount: count, j0: 0, jCount: n)
                } else {
                    target.pack(rows, kStride: 1, jStride: n, k0: 0, kCount: n, j0: r0, jCount: count)
                }
            }
        }
        switch (transposed, approximate) {
        case (true, true): packedBackwardApproximate = target
        case (true, false): packedBackward = target
        case (false, true): packedForwardApproximate = target
        case (false, false): packedForward = target
        }
        return target
    }

    /// Bytes held by the dense, packed or tiled copies (0 until first use of one).
    public var denseByteCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return (dense == nil ? 0 : outputs * inputs * 4) + (packedForward?.byteCount ?? 0) + (packedBackward?.byteCount ?? 0)
            + (packedForwardApproximate?.byteCount ?? 0) + (packedBackwardApproximate?.byteCount ?? 0) + (tiled?.byteCount ?? 0)
    }
}
