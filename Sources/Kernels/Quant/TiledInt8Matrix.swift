// Provenance: interleaving weight rows so that SIMD lanes hold output rows is the usual repacked
// GEMM layout for quantized decode (e.g. llama.cpp's repacked q4_0 kernels); the layout and
// kernels are this project's own (CKernels/tiled_int8.c, ckernels.h).

import CKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A ``QuantizedMatrix`` repacked once into tiles of 16 rows of exact int8 block values for the
/// tiled 8-bit decode products: one `vpdpbusd` advances 16 rows by 4 k, and up to 8 vectors
/// share each weight load, so several decode steps at once (batched inference) run at ~4× the
/// row-major kernels' rate on AVX-512 VNNI. Results differ from
/// ``QuantizedMatrix/matvecQuantized(x:y:threads:threading:minimumBytesPerThread:)`` only by the
/// order of float sums (activations are rounded to 8 bits the same way, integer dots are exact);
/// each output is the same function of its row and vector whatever the batch, the threads or the
/// instruction set.
///
/// Shapes: `rows` = output features, `columns` = input features (whole 32-element blocks; whole
/// 256-element super-blocks for the K formats). Memory: `rows × columns` bytes plus 8–16 bytes per
/// 32 weights (the GGUF bytes are not read after packing).
public final class TiledInt8Matrix: @unchecked Sendable {
    // @unchecked: `storage` is written once in init and only read afterwards.
    public let rows: Int, columns: Int
    public let type: GGMLType
    public let byteCount: Int
    let storage: UnsafeMutableRawPointer

    /// Whether `type` can be tiled (q4_0, q4_1, q5_0, q5_1, q8_0, q4_K, q5_K, q6_K).
    public static func supports(_ type: GGMLType) -> Bool { rmas_tiled_supported(Int32(type.rawValue)) != 0 }

    /// Whether the tiled kernels are vectorised on this CPU (AVX-512 VNNI); elsewhere portable C
    /// computes the same values much more slowly, so tiles are no default there.
    public static var isAccelerated: Bool { rmas_isa_best() >= Int32(RMAS_ISA_AVX512VNNI) }

    /// Repacks `matrix` on `threads` threads; nil when its type cannot be tiled.
    public init?(_ matrix: QuantizedMatrix, threads: Int = Parallel.defaultThreadCount) {
        let code = Int32(matrix.type.rawValue)
        let bytes = rmas_tiled_bytes(code, Int64(matrix.rows), Int64(matrix.columns))
        guard Self.supports(matrix.type), bytes > 0 || matrix.rows == 0 else { return nil }
        rows = matrix.rows
        columns = matrix.columns
        type = matrix.type
        byteCount = bytes
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, 64, max(64, bytes)) == 0, let pointer else { return nil }
        storage = pointer
        nonisolated(unsafe) let (target, base) = (pointer, matrix.base)  // workers fill disjoint tiles from read-only rows
        let rowBytes = matrix.rowBytes
        let tiles = (matrix.rows + 15) / 16
        Parallel.forEachChunk(count: tiles, threads: threads, minimumChunk: 8) { range in
            let status = rmas_tiled_pack(code, Int32(matrix.columns), base, rowBytes, Int64(matrix.rows),
                                         Int64(range.lowerBound), Int64(range.upperBound), target)
            precondition(status == 0, "rmas_tiled_pack refused a \(matrix.type) \(matrix.rows)×\(matrix.columns) matrix")
        }
    }

    deinit { free(storage) }

    /// Bytes of one quantized activation vector (`columns` values + 8 bytes per 32).
    public var activationByteCount: Int { rmas_tiled_activation_bytes(Int64(columns)) }

    /// Rounds `x` (`columns` floats) to the tiled kernels' 8-bit blocks in `scratch`
    /// (``activationByteCount`` bytes); one such vector feeds every matrix with these `columns`.
    public func quantize(_ x: UnsafePointer<Float>, into scratch: UnsafeMutableRawPointer) {
        let status = rmas_tiled_quantize(x, Int64(columns), scratch)
        precondition(status == 0, "rmas_tiled_quantize refused \(columns) columns")
    }

    /// `y_v [rows] = W · x̃_v` for each quantized vector (``quantize(_:into:)``), tiles spread over
    /// the helper threads (as the row-major kernels).
    public func matvec(activations: [UnsafeRawPointer], outputs y: [UnsafeMutablePointer<Float>],
                       threads: Int = Parallel.defaultThreadCount) {
        precondition(activations.count == y.count, "\(activations.count) input vectors, \(y.count) outputs")
        guard rows > 0, !activations.isEmpty else { return }
        let status = activations.map { Optional($0) }.withUnsafeBufferPointer { xq in
            y.map { Optional($0) }.withUnsafeBufferPointer { out in
                rmas_tiled_parallel(Int32(type.rawValue), Int32(columns), storage, Int64(rows), xq.baseAddress, out.baseAddress,
                                    Int32(activations.count), Int32(threads))
            }
        }
        precondition(status == 0, "rmas_tiled_parallel refused its arguments")
    }

    /// `y [rows] = W · x̃` for one float vector (`columns` floats), quantized on a stack buffer:
    /// the decode step's call, which allocates nothing.
    public func matvec(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, threads: Int = Parallel.defaultThreadCount) {
        guard rows > 0 else { return }
        withUnsafeTemporaryAllocation(byteCount: activationByteCount, alignment: 64) { scratch in
            quantize(x, into: scratch.baseAddress!)
            var input: UnsafeRawPointer? = UnsafeRawPointer(scratch.baseAddress!)
            var output: UnsafeMutablePointer<Float>? = y
            let status = rmas_tiled_parallel(Int32(type.rawValue), Int32(columns), storage, Int64(rows), &input, &output, 1,
                                             Int32(threads))
            precondition(status == 0, "rmas_tiled_parallel refused its arguments")
        }
    }

    /// `y_v = W · x_v` for float vectors (each `columns` floats), quantized first on a stack buffer.
    public func matvec(vectors x: [UnsafePointer<Float>], outputs y: [UnsafeMutablePointer<Float>],
                       threads: Int = Parallel.defaultThreadCount) {
        let bytes = activationByteCount
        withUnsafeTemporaryAllocation(byteCount: max(1, bytes * x.count), alignment: 64) { scratch in
            var activations: [UnsafeRawPointer] = []
            activations.reserveCapacity(x.count)
            for (v, vector) in x.enumerated() {
                let slot = scratch.baseAddress! + v * bytes
                quantize(vector, into: slot)
                activations.append(UnsafeRawPointer(slot))
            }
            matvec(activations: activations, outputs: y, threads: threads)
        }
    }
}
