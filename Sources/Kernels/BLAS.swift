// Provenance: CBLAS row-major sgemm (Netlib CBLAS interface, as OpenBLAS and Accelerate export it).
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// fp32 GEMM through the system BLAS, loaded at run time, with a portable fallback.
///
/// OpenBLAS is opened with `dlopen` rather than linked so that (a) the package builds without
/// BLAS headers, and (b) `OPENBLAS_CORETYPE` can be set *before* OpenBLAS initialises: on this
/// project's Zen 5 machines OpenBLAS otherwise picks its AVX2 "Haswell" kernel at half the speed
/// of the AVX-512 "SkylakeX" one (perf-anchors.md: 219 vs 415 GFLOP/s on 2 cores). When no BLAS
/// can be loaded (or `RMAS_BLAS=builtin` is set), ``gemm`` runs this project's packed GEMM
/// (``PackedGEMM``; fp32, AVX-512/AVX2/portable C; prefill measured at 0.68–0.88× OpenBLAS's,
/// BENCHMARKS.md "Built-in GEMM") and ``backend`` says so.
public enum BLAS {
    public enum Backend: Sendable, Equatable {
        case openBLAS(coreType: String), accelerate
        /// ``PackedGEMM``: no system library.
        case builtin
    }

    private typealias SGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
    ) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void

    private struct Loaded: @unchecked Sendable {  // function pointers are immutable after load
        let sgemm: SGEMM?
        let setThreads: SetThreads?
        let backend: Backend
    }

    private static let loaded: Loaded = load()

    /// Whether OpenBLAS's idle workers are to sleep at once (``letIdleWorkersSleep()``).
    private static let sleepingWorkers = Mutex(false)

    /// Asks OpenBLAS to put its worker threads to sleep as soon as a call ends instead of
    /// spinning (`OPENBLAS_THREAD_TIMEOUT=4`). By default a worker spins for a while after each
    /// call, holding a core this project's own thread pool then lacks: where the system BLAS does
    /// only a few small products between long built-in ones (attention in bfloat16 training) that
    /// spinning measured 23% of the samples, and sleeping workers gave `train outer --matmul
    /// bfloat16` 1.07–1.14× the positions/s (BENCHMARKS "OpenBLAS's idle workers under bf16
    /// training"), and `compare --batch 32` 1.05–1.14× the answers per hour (fp32 prompt products
    /// between the pool's batched int8 decode products); where OpenBLAS does the layer products
    /// back to back, waking costs more (0.90×), so this is not the default. Takes effect only
    /// before the library is loaded (the first ``gemm`` or ``backend``) and only when the user
    /// has not set the variable; returns whether OpenBLAS will sleep its workers.
    @discardableResult
    public static func letIdleWorkersSleep() -> Bool {
        sleepingWorkers.withLock { $0 = true }
        if case .openBLAS = loaded.backend { return getenv("OPENBLAS_THREAD_TIMEOUT").map { String(cString: $0) } == "4" }
        return false
    }

    /// Which implementation ``gemm`` uses.
    public static var backend: Backend { loaded.backend }

    private static func load() -> Loaded {
        isLoaded.withLock { $0 = true }
        if let choice = getenv("RMAS_BLAS"), String(cString: choice) == "builtin" {
            return Loaded(sgemm: nil, setThreads: nil, backend: .builtin)
        }
        #if os(macOS)
        let candidates = ["/System/Library/Frameworks/Accelerate.framework/Accelerate"]
        #else
        if getenv("OPENBLAS_CORETYPE") == nil, CPU.hasAVX512 { setenv("OPENBLAS_CORETYPE", "SkylakeX", 0) }
        if sleepingWorkers.withLock({ $0 }) { setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0) }
        let candidates = ["libopenblas.so.0", "libopenblas.so", "libblas.so.3"]
        #endif
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL), let symbol = dlsym(handle, "cblas_sgemm") else { continue }
            let setThreads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
            if let threads = requestedThreads.withLock({ $0 }) { setThreads?(Int32(threads)) }  // set before loading
            #if os(macOS)
            let backend = Backend.accelerate
            #else
            let backend = Backend.openBLAS(coreType: getenv("OPENBLAS_CORETYPE").map { String(cString: $0) } ?? "auto")
            #endif
            return Loaded(sgemm: unsafeBitCast(symbol, to: SGEMM.self), setThreads: setThreads, backend: backend)
        }
        return Loaded(sgemm: nil, setThreads: nil, backend: .builtin)
    }

    /// Sets BLAS's own worker count (OpenBLAS, and the built-in GEMM's thread split). Does not
    /// load the library: a count set before the first ``gemm`` is applied when it loads, so
    /// settings that must precede loading (``letIdleWorkersSleep()``) can still follow this.
    public static func setThreadCount(_ threads: Int) {
        builtinThreads.withLock { $0 = max(1, threads) }
        requestedThreads.withLock { $0 = max(1, threads) }
        if isLoaded.withLock({ $0 }) { loaded.setThreads?(Int32(max(1, threads))) }
    }

    /// Set (first thing) when ``load()`` runs.
    private static let isLoaded = Mutex(false)
    /// The last ``setThreadCount(_:)``, applied to OpenBLAS when it loads.
    private static let requestedThreads = Mutex<Int?>(nil)

    private static let builtinThreads = Mutex(Parallel.defaultThreadCount)
    static var threadCount: Int { builtinThreads.withLock { $0 } }

    /// `C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C`, all row-major, where `op(B)` is `Bᵀ`
    /// when `transposeB` (B stored `[N×K]`, the GGUF weight layout: one row per output feature)
    /// and `B` otherwise (stored `[K×N]`); likewise `op(A)` is `Aᵀ` when `transposeA` (A stored
    /// `[K×M]`). Leading dimensions are the stored row lengths.
    public static func gemm(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if let sgemm = loaded.sgemm {
            // CBLAS enums: RowMajor = 101, NoTrans = 111, Trans = 112.
            sgemm(101, transposeA ? 112 : 111, transposeB ? 112 : 111, Int32(m), Int32(n), Int32(k), alpha, a,
                  Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        } else {
            PackedGEMM.gemm(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb,
                            transposeB: transposeB, beta: beta, c: c, ldc: ldc, threads: threadCount)
        }
    }

    /// The naive triple loop (Float accumulation): the algorithmic reference for tests.
    public static func gemmReference(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k {
                    sum += (transposeA ? a[p * lda + i] : a[i * lda + p]) * (transposeB ? b[j * ldb + p] : b[p * ldb + j])
                }
                c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }
}

/// CPU feature queries needed to choose kernels.
public enum CPU {
    /// Whether the CPU supports AVX-512 F (read from /proc/cpuinfo on Linux).
    public static let hasAVX512: Bool = {
        #if os(Linux) && arch(x86_64)
        guard let file = fopen("/proc/cpuinfo", "r") else { return false }
        defer { fclose(file) }
        var line = [UInt8](repeating: 0, count: 8192)
        while line.withUnsafeMutableBufferPointer({ fgets(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), Int32($0.count), file) }) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }, as: UTF8.self)
            if text.hasPrefix("flags") { return text.contains(" avx512f") }
        }
        return false
        #else
        return false
        #endif
    }()
}
