// Provenance: Goto/BLIS-style blocked GEMM (packed B panels, packed A tiles, register-blocked
// micro-tile); the kernels are this project's own (Sources/CKernels/gemm.c, gemm_x86.c).
import CKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element format of packed GEMM operands.
public enum GEMMFormat: Sendable, CaseIterable, Hashable {
    /// fp32 operands, fp32 fused multiply-adds in k order (AVX-512, AVX2 or portable C; all give
    /// the same bits).
    case float32
    /// Operands rounded to bfloat16 (nearest even), products accumulated in fp32 by AVX512-BF16
    /// `vdpbf16ps`: half the packed bytes, at about 3 significant digits per operand. Measured
    /// slower than `float32` on this project's Xeon (~82 vs ~140 GFLOP/s per core, BENCHMARKS.md),
    /// faster on Zen 4 (``preferredForInference``).
    case bfloat16

    var code: Int32 { self == .float32 ? Int32(RMAS_GEMM_F32) : Int32(RMAS_GEMM_BF16) }

    /// Whether this CPU runs the format (bfloat16 needs AVX512-BF16).
    public var isSupported: Bool { rmas_gemm_format_supported(code) != 0 }

    /// The format text inference's prompt prefill uses by default here (the CLI's `--prefill
    /// auto`): `bfloat16` on AMD CPUs with AVX512-BF16, where `vdpbf16ps` issues at the FMA rate
    /// (measured 1.5–1.7× fp32 on Zen 4), else `float32` (0.6× fp32 on the Xeon measured).
    /// `RMAS_GEMM_APPROXIMATE=f32|bf16` in the environment overrides (bf16 only where supported).
    /// Chosen by CPU, not by timing, so a machine's answers are reproducible.
    public static let preferredForInference: GEMMFormat = rmas_gemm_bf16_preferred() != 0 ? .bfloat16 : .float32
}

/// A `B [K × N]` operand packed into 32-column panels (``GEMMFormat``), for frozen weights that
/// are packed once and multiplied many times. Starts zero-filled; ``pack(_:kStride:jStride:k0:kCount:j0:jCount:)``
/// fills it (from several threads at once when their element ranges are disjoint).
public final class PackedMatrix: @unchecked Sendable {
    public let format: GEMMFormat
    /// Rows (the reduction length K) and columns (outputs N).
    public let k: Int, n: Int
    public let byteCount: Int
    let storage: UnsafeMutableRawPointer

    public convenience init(format: GEMMFormat, k: Int, n: Int) {
        self.init(format: format, k: k, n: n, zeroFilled: true)
    }

    /// Without `zeroFilled` the storage starts undefined: only for an operand that
    /// ``packAll(_:kStride:jStride:)`` fills next (per-call products skip a memset of every byte).
    init(format: GEMMFormat, k: Int, n: Int, zeroFilled: Bool) {
        precondition(format.isSupported && k >= 0 && n >= 0, "unsupported packed format or negative size")
        self.format = format
        self.k = k
        self.n = n
        byteCount = rmas_gemm_packed_b_bytes(format.code, Int64(k), Int64(n))
        storage = PackedGEMM.allocate(bytes: byteCount)
        if zeroFilled { memset(storage, 0, byteCount) }
    }

    deinit { free(storage) }

    /// The packed bytes (layout in ckernels.h), valid while this object lives.
    public var baseAddress: UnsafeRawPointer { UnsafeRawPointer(storage) }

    /// `B(k0 + i, j0 + j) = src[i·kStride + j·jStride]` for `i < kCount`, `j < jCount`.
    public func pack(_ src: UnsafePointer<Float>, kStride: Int, jStride: Int, k0: Int, kCount: Int, j0: Int, jCount: Int) {
        let status = rmas_gemm_pack_b(format.code, src, Int64(kStride), Int64(jStride), Int64(k0), Int64(kCount),
                                      Int64(j0), Int64(jCount), Int64(k), Int64(n), storage)
        precondition(status == 0, "pack range outside the \(k)×\(n) operand")
    }

    /// `B(kk, j) = src[kk·kStride + j·jStride]` for the whole K × N, pads written too: the same
    /// bytes as a zero-filled operand packed over its full range, read along the source's
    /// contiguous direction (K's rows for Kᵀ: a register transpose with AVX-512).
    public func packAll(_ src: UnsafePointer<Float>, kStride: Int, jStride: Int) {
        let status = rmas_gemm_pack_b_all(format.code, src, Int64(kStride), Int64(jStride), Int64(k), Int64(n), storage)
        precondition(status == 0, "packing a \(k)×\(n) operand refused its arguments")
    }
}

/// Matrix products on ``PackedMatrix`` operands, with the panels split over threads.
public enum PackedGEMM {
    /// 64-byte aligned raw memory (at least 64 bytes, so a zero-size request is still freeable).
    static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        var pointer: UnsafeMutableRawPointer?
        let status = posix_memalign(&pointer, 64, max(64, bytes))
        guard status == 0, let pointer else { fatalError("out of memory allocating \(bytes) bytes for a packed GEMM operand") }
        return pointer
    }

    /// `C [M × N] = alpha · op(A) · B + beta · C`, `op(A)` being `A [M × K]` (row stride `lda`) or,
    /// with `transposeA`, the transpose of the stored `[K × M]`. C is not read when `beta` is 0.
    /// Every C row depends only on its own A row (not on M or the thread split).
    public static func multiply(
        m: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false, b: PackedMatrix,
        alpha: Float = 1, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
    ) {
        guard m > 0, b.n > 0 else { return }
        let format = b.format.code
        let aBytes = rmas_gemm_packed_a_bytes(format, Int64(m), Int64(b.k))
        let packedA = allocate(bytes: aBytes)
        defer { free(packedA) }
        nonisolated(unsafe) let (aPointer, cPointer, storage, aSource, aTarget) = (UnsafeRawPointer(packedA), c, b.baseAddress, a, packedA)
        let (k, n) = (b.k, b.n)
        // A's tiles are packed in parallel too (on a thin B the packing is a tenth of the work).
        let tiles = (m + Int(RMAS_GEMM_MR) - 1) / Int(RMAS_GEMM_MR)
        Parallel.forEachChunk(count: tiles, threads: threads, minimumChunk: max(1, 16_384 / max(1, k * Int(RMAS_GEMM_MR)))) { range in
            _ = rmas_gemm_pack_a(format, aSource, Int64(lda), transposeA ? 1 : 0, Int64(m), Int64(k),
                                 Int64(range.lowerBound), Int64(range.upperBound), aTarget)
        }
        let panels = (b.n + Int(RMAS_GEMM_NR) - 1) / Int(RMAS_GEMM_NR)
        // A thread gets at least ~4 MFLOP of panels: below that the fork costs more than it saves.
        let perPanel = max(1, 2 * m * b.k * Int(RMAS_GEMM_NR))
        let minimum = max(1, 4_000_000 / perPanel)
        Parallel.forEachChunk(count: panels, threads: threads, minimumChunk: minimum) { range in
            let status = rmas_gemm_packed_run(format, aPointer, Int64(m), Int64(k), storage, Int64(n),
                                              Int64(range.lowerBound), Int64(range.upperBound), cPointer,
                                              Int64(ldc), alpha, beta)
            precondition(status == 0, "packed GEMM refused its arguments")
        }
    }

    /// The general product with both operands packed per call (the built-in backend of
    /// ``BLAS/gemm(m:n:k:alpha:a:lda:transposeA:b:ldb:transposeB:beta:c:ldc:)``): arguments as there.
    public static func gemm(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
        format: GEMMFormat = .float32, threads: Int = Parallel.defaultThreadCount
    ) {
        guard m > 0, n > 0 else { return }
        let packed = PackedMatrix(format: format, k: k, n: n, zeroFilled: false)
        // B(kk, j) is b[j·ldb + kk] when transposed (stored N × K), b[kk·ldb + j] otherwise.
        packed.packAll(b, kStride: transposeB ? 1 : ldb, jStride: transposeB ? ldb : 1)
        multiply(m: m, a: a, lda: lda, transposeA: transposeA, b: packed, alpha: alpha, beta: beta, c: c, ldc: ldc,
                 threads: threads)
    }
}
