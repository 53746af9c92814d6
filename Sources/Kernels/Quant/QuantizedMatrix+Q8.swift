// Provenance: the scheme is llama.cpp's (ggml-cpu mul_mat for a single token: the activation
// row is converted to the weight type's `vec_dot_type` — q8_0, q8_1 or q8_K — once, then every
// weight row is an integer dot product with it); the kernels are this project's, in CKernels.
//
// Matrix-vector products with 8-bit activations.

import CKernels

/// How ``QuantizedMatrix/matvecQuantized(activations:y:threads:threading:minimumBytesPerThread:)``
/// spreads rows over threads.
///
/// Measured on the 2-core development VM (shared and usually busy), SmolLM2-135M Q4_1 decode
/// (tg128, 2 threads; `rmas bench` with the 8-bit path in `Linear`): with real-time priority
/// (standing in for an idle machine) `.helperThreads` 108–117 tok/s, `.dispatch` 80–102,
/// llama-bench 106–119; at normal priority under load both 74–98, llama-bench 2–96 (its
/// spinning OpenMP threads collapse when descheduled).
public enum QuantizedMatvecThreading: Sendable {
    /// CKernels' persistent helper threads (started on first use), which spin for 0.2 ms after
    /// each matvec (yielding the core after the first µs) before sleeping, as llama.cpp's
    /// threadpool does, so back-to-back matvecs of ~10 µs really run on several cores (1.8–2×
    /// on 2 threads, where Dispatch gains little); they stand down while measured not to help
    /// (an oversubscribed machine).
    case helperThreads
    /// ``Parallel/forEachChunk(count:threads:minimumChunk:_:)`` (Dispatch), as the other kernels:
    /// nothing spins, but a matvec shorter than a worker's wake-up (tens of µs) mostly runs on
    /// the calling thread.
    case dispatch
}

extension QuantizedMatrix {
    /// Whether ``matvecQuantized(x:y:threads:)`` can run on this matrix: the weight type has an
    /// integer kernel (q4_0, q4_1, q5_0, q5_1, q8_0, q4_K, q5_K, q6_K). False for f32/f16/bf16.
    public var supportsQuantizedActivations: Bool {
        rmas_activation_type(Int32(type.rawValue)) >= 0
    }

    /// Whether the 8-bit-activation kernels run vectorised on this CPU (AVX-512 VNNI or AVX2).
    /// Where false they run as portable scalar C, correct but slower than the float
    /// ``matvec(x:y:threads:minimumBytesPerThread:)``, so callers should prefer the float path then.
    public static var quantizedActivationsAreAccelerated: Bool {
        rmas_isa_best() != Int32(RMAS_ISA_SCALAR)
    }

    /// The instruction set the 8-bit-activation kernels use here and where they prefetch weight
    /// rows (`"avx512vnni, prefetch L2"`, `"avx2, prefetch L1"`, `"scalar"`).
    public static var quantizedActivationKernelName: String {
        let isa = rmas_isa_best()
        let name = String(cString: rmas_isa_name(isa))
        return isa == Int32(RMAS_ISA_SCALAR) ? name : "\(name), prefetch L\(rmas_prefetch_level())"
    }

    /// The GGML type the activations are quantized to for this matrix (`.q8_0`, `.q8_1` or
    /// `.q8_K`), or nil when ``supportsQuantizedActivations`` is false.
    public var activationType: GGMLType? {
        let id = rmas_activation_type(Int32(type.rawValue))
        return id < 0 ? nil : GGMLType(rawValue: UInt32(id))
    }

    /// Bytes of quantized activations for one input vector of `columns` floats (0 when
    /// ``supportsQuantizedActivations`` is false).
    public var quantizedActivationByteCount: Int {
        rmas_activation_bytes(Int32(type.rawValue), Int64(columns))
    }

    /// Below this many weight bytes per worker, ``matvecQuantized(x:y:threads:threading:minimumBytesPerThread:)``
    /// uses fewer workers, for `.helperThreads` (a hand-off costs about 1 µs; 16 KiB take ~1 µs).
    public static let defaultMinimumBytesPerThreadHelpers = 16 * 1024
    /// The same for `.dispatch`, whose hand-off costs several µs.
    public static let defaultMinimumBytesPerThreadDispatch = 64 * 1024

    /// Quantizes `x` (`columns` floats) into `scratch` (at least ``quantizedActivationByteCount``
    /// bytes) in the activation format this matrix pairs with; the result can feed
    /// ``matvecQuantized(activations:y:threads:threading:minimumBytesPerThread:)`` of every matrix with the
    /// same ``activationType`` and `columns` (e.g. the Q/K/V projections of one layer).
    public func quantizeActivations(_ x: UnsafeBufferPointer<Float>, into scratch: UnsafeMutableRawBufferPointer) {
        precondition(supportsQuantizedActivations, "\(type) has no 8-bit-activation kernel")
        precondition(x.count >= columns, "x holds \(x.count) floats, rows have \(columns)")
        precondition(scratch.count >= quantizedActivationByteCount,
                     "scratch holds \(scratch.count) bytes, \(quantizedActivationByteCount) needed")
        guard let input = x.baseAddress, let output = scratch.baseAddress else { return }
        let status = rmas_quantize_activation(Int32(type.rawValue), input, output, Int64(columns))
        precondition(status == 0, "rmas_quantize_activation rejected \(type) × \(columns)")
    }

    /// `y[r] = Σ_c W[r, c] · x̃[c]` for every row, where x̃ is the input vector as quantized by
    /// ``quantizeActivations(_:into:)`` into `activations`; y is `[rows]`.
    ///
    /// Rows are split over at most `threads` threads (see ``QuantizedMatvecThreading``), each
    /// with at least `minimumBytesPerThread` bytes of weights (default: per threading mode).
    /// Each `y[r]` is the same value whatever the split, thread count and threading mode.
    public func matvecQuantized(
        activations: UnsafeRawBufferPointer, y: UnsafeMutableBufferPointer<Float>,
        threads: Int = Parallel.defaultThreadCount, threading: QuantizedMatvecThreading = .helperThreads,
        minimumBytesPerThread: Int? = nil
    ) {
        precondition(supportsQuantizedActivations, "\(type) has no 8-bit-activation kernel")
        precondition(activations.count >= quantizedActivationByteCount,
                     "activations hold \(activations.count) bytes, \(quantizedActivationByteCount) needed")
        precondition(y.count >= rows, "y holds \(y.count) floats, matrix has \(rows) rows")
        guard rows > 0, let input = activations.baseAddress, let out = y.baseAddress else { return }
        let typeID = Int32(type.rawValue), columns = Int32(columns), rowBytes = rowBytes, rows = rows
        switch threading {
        case .helperThreads:
            let minimum = max(1, minimumBytesPerThread ?? Self.defaultMinimumBytesPerThreadHelpers)
            let workers = max(1, min(threads, byteCount / minimum))
            let status = rmas_gemv_parallel(typeID, columns, base, rowBytes, input, out, Int64(rows), Int32(workers))
            precondition(status == 0, "rmas_gemv_parallel rejected \(type)")
        case .dispatch:
            // The workers share raw pointers, hence `nonisolated(unsafe)`: `xq` and the weights
            // are only read, and each worker writes only `output[first ..< end]`, its own rows.
            nonisolated(unsafe) let xq = input
            nonisolated(unsafe) let output = out
            nonisolated(unsafe) let weights = base
            let group = 4  // the kernels' row group: chunks of whole groups keep every row in one
            let groups = (rows + group - 1) / group
            let minimum = minimumBytesPerThread ?? Self.defaultMinimumBytesPerThreadDispatch
            let minimumGroups = max(1, minimum / (rowBytes * group))
            Parallel.forEachChunk(count: groups, threads: threads, minimumChunk: minimumGroups) { chunk in
                let first = chunk.lowerBound * group, end = min(rows, chunk.upperBound * group)
                let status = rmas_gemv(
                    typeID, columns, weights + first * rowBytes, rowBytes, xq, output + first, Int64(end - first))
                precondition(status == 0, "rmas_gemv rejected type \(typeID)")
            }
        }
    }

    /// `y[r] = Σ_c W[r, c] · x̃[c]` for every row: x is `[columns]` floats, y is `[rows]`; x̃ is x
    /// quantized once to 8-bit blocks (``activationType``) as llama.cpp does, so the result
    /// differs from ``matvec(x:y:threads:minimumBytesPerThread:)`` by the activation rounding:
    /// per 32-element block at most about `Σ|W[r, c]| · amax/254` (`amax` = the block's largest
    /// `|x[c]|`; 256-element blocks for the K formats).
    ///
    /// The quantized copy of x lives in a stack buffer (`withUnsafeTemporaryAllocation`), so a
    /// call does not allocate; rows are split over threads as in
    /// ``matvecQuantized(activations:y:threads:threading:minimumBytesPerThread:)``.
    /// Precondition: ``supportsQuantizedActivations``.
    public func matvecQuantized(
        x: UnsafeBufferPointer<Float>, y: UnsafeMutableBufferPointer<Float>,
        threads: Int = Parallel.defaultThreadCount, threading: QuantizedMatvecThreading = .helperThreads,
        minimumBytesPerThread: Int? = nil
    ) {
        precondition(supportsQuantizedActivations, "\(type) has no 8-bit-activation kernel")
        withUnsafeTemporaryAllocation(byteCount: quantizedActivationByteCount, alignment: 64) { scratch in
            quantizeActivations(x, into: scratch)
            matvecQuantized(
                activations: UnsafeRawBufferPointer(scratch), y: y, threads: threads, threading: threading,
                minimumBytesPerThread: minimumBytesPerThread)
        }
    }

    /// `Σ_c W[row, c] · x̃[c]` for one row, with `activations` from ``quantizeActivations(_:into:)``;
    /// equal to `y[row]` of ``matvecQuantized(activations:y:threads:threading:minimumBytesPerThread:)``.
    public func dotQuantized(row: Int, activations: UnsafeRawBufferPointer) -> Float {
        precondition(supportsQuantizedActivations, "\(type) has no 8-bit-activation kernel")
        precondition(activations.count >= quantizedActivationByteCount,
                     "activations hold \(activations.count) bytes, \(quantizedActivationByteCount) needed")
        guard let xq = activations.baseAddress else { return 0 }
        var result: Float = 0
        let status = rmas_gemv(Int32(type.rawValue), Int32(columns), rowPointer(row), rowBytes, xq, &result, 1)
        precondition(status == 0, "rmas_gemv rejected \(type)")
        return result
    }
}
