import CKernels
import Foundation
import Kernels
import Testing

/// The packed GEMM against a float64 reference, across shapes that hit every tile edge (rows
/// 1…14 of a tile, partial panels, k blocks and odd k), both A layouts and alpha/beta; fp32
/// results identical on every instruction-set level and thread count; each row independent of
/// the rows multiplied with it.
@Suite("Packed GEMM (fp32, bf16)")
struct PackedGEMMTests {
    static let shapes: [(m: Int, k: Int, n: Int)] = [
        (1, 1, 1), (3, 7, 31), (14, 256, 32), (15, 257, 33), (37, 300, 70), (29, 513, 96), (230, 40, 17),
    ]

    /// `op(A)·B` in float64, from the operands as the format rounds them.
    static func reference(m: Int, k: Int, n: Int, a: [Float], transposeA: Bool, b: [Float], round: (Float) -> Float,
                          alpha: Float, beta: Float, c0: [Float]) -> [Double] {
        var out = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for kk in 0..<k {
                    let av = transposeA ? a[kk * m + i] : a[i * k + kk]
                    s += Double(round(av)) * Double(round(b[kk * n + j]))
                }
                out[i * n + j] = Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c0[i * n + j]))
            }
        }
        return out
    }

    static func bf16(_ x: Float) -> Float {
        let bits = x.bitPattern
        return Float(bitPattern: ((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16) << 16)
    }

    /// Runs `op(A)·B` (B given as K × N row-major) through a PackedMatrix.
    static func run(format: GEMMFormat, m: Int, k: Int, n: Int, a: [Float], transposeA: Bool, b: [Float],
                    alpha: Float, beta: Float, c0: [Float], threads: Int) -> [Float] {
        let packed = PackedMatrix(format: format, k: k, n: n)
        b.withUnsafeBufferPointer { packed.pack($0.baseAddress!, kStride: n, jStride: 1, k0: 0, kCount: k, j0: 0, jCount: n) }
        var c = c0
        a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { cp in
                PackedGEMM.multiply(m: m, a: ap.baseAddress!, lda: transposeA ? m : k, transposeA: transposeA, b: packed,
                                    alpha: alpha, beta: beta, c: cp.baseAddress!, ldc: n, threads: threads)
            }
        }
        return c
    }

    @Test("fp32 and bf16 equal the float64 reference of their rounded operands")
    func matchesReference() {
        for format in GEMMFormat.allCases where format.isSupported {
            for (index, shape) in Self.shapes.enumerated() {
                let (m, k, n) = shape
                let a = ThreadedKernelTests.random(m * k, seed: 10 + UInt64(index))
                let b = ThreadedKernelTests.random(k * n, seed: 50 + UInt64(index))
                let c0 = ThreadedKernelTests.random(m * n, seed: 90 + UInt64(index))
                for transposeA in [false, true] {
                    for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-2, 0.25)] {
                        let got = Self.run(format: format, m: m, k: k, n: n, a: a, transposeA: transposeA, b: b,
                                           alpha: alpha, beta: beta, c0: c0, threads: 2)
                        let want = Self.reference(m: m, k: k, n: n, a: a, transposeA: transposeA, b: b,
                                                  round: format == .bfloat16 ? Self.bf16 : { $0 },
                                                  alpha: alpha, beta: beta, c0: c0)
                        // fp32 accumulation of k products of magnitude ≤ 1: error ≲ k·2⁻²⁴ per unit.
                        let tolerance = 4e-7 * Double(k) * Double(abs(alpha)) + 1e-6
                        let worst = zip(got, want).map { abs(Double($0) - $1) }.max() ?? 0
                        #expect(worst <= tolerance, "\(format) \(shape) transposeA \(transposeA) α \(alpha) β \(beta): \(worst)")
                    }
                }
            }
        }
    }

    @Test("bf16 stays within bf16 rounding of the fp32 product")
    func bf16NearFloat() {
        guard GEMMFormat.bfloat16.isSupported else { return }  // no AVX512-BF16: nothing to compare
        let (m, k, n) = (20, 896, 64)
        let a = ThreadedKernelTests.random(m * k, seed: 3), b = ThreadedKernelTests.random(k * n, seed: 4)
        let exact = Self.reference(m: m, k: k, n: n, a: a, transposeA: false, b: b, round: { $0 }, alpha: 1, beta: 0, c0: [])
        let got = Self.run(format: .bfloat16, m: m, k: k, n: n, a: a, transposeA: false, b: b, alpha: 1, beta: 0,
                           c0: [Float](repeating: 0, count: m * n), threads: 1)
        // Each operand moves by at most 2⁻⁹ relative, so each product by at most ~2⁻⁸: the error
        // of element (i, j) is bounded by 2⁻⁸·Σ|a·b| (plus fp32 accumulation, far smaller).
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                let magnitude = (0..<k).reduce(0.0) { $0 + abs(Double(a[i * k + $1]) * Double(b[$1 * n + j])) }
                let error = abs(Double(got[i * n + j]) - exact[i * n + j])
                #expect(error <= magnitude / 256, "(\(i), \(j)): \(error) vs bound \(magnitude / 256)")
                worst = max(worst, error)
            }
        }
        #expect(worst > 0, "bf16 rounding should show at k = 896")
    }

    @Test("fp32 gives the same bits on every instruction-set level and thread count")
    func levelsAgree() {
        let (m, k, n) = (37, 300, 70)
        let a = ThreadedKernelTests.random(m * k, seed: 5), b = ThreadedKernelTests.random(k * n, seed: 6)
        let packedB = PackedMatrix(format: .float32, k: k, n: n)
        b.withUnsafeBufferPointer { packedB.pack($0.baseAddress!, kStride: n, jStride: 1, k0: 0, kCount: k, j0: 0, jCount: n) }
        var packedA = [UInt8](repeating: 0, count: rmas_gemm_packed_a_bytes(Int32(RMAS_GEMM_F32), Int64(m), Int64(k)))
        a.withUnsafeBufferPointer { ap in
            packedA.withUnsafeMutableBytes { _ = rmas_gemm_pack_a(Int32(RMAS_GEMM_F32), ap.baseAddress!, Int64(k), 0, Int64(m), Int64(k), 0, Int64((m + 13) / 14), $0.baseAddress!) }
        }
        let panels = Int64((n + 31) / 32)
        var results: [[Float]] = []
        for isa in [RMAS_ISA_SCALAR, RMAS_ISA_AVX2, RMAS_ISA_AVX512VNNI] where rmas_isa_supported(Int32(isa)) != 0 {
            var c = [Float](repeating: .nan, count: m * n)
            let status = packedA.withUnsafeBytes { ap in
                c.withUnsafeMutableBufferPointer { cp in
                    withExtendedLifetime(packedB) {
                        rmas_gemm_packed_run_isa(Int32(isa), Int32(RMAS_GEMM_F32), ap.baseAddress!, Int64(m), Int64(k),
                                                 packedB.baseAddress, Int64(n), 0, panels, cp.baseAddress!, Int64(n), 1, 0)
                    }
                }
            }
            #expect(status == 0)
            results.append(c)
        }
        for threads in [1, 2] {
            results.append(Self.run(format: .float32, m: m, k: k, n: n, a: a, transposeA: false, b: b, alpha: 1, beta: 0,
                                    c0: [Float](repeating: 0, count: m * n), threads: threads))
        }
        for r in results.dropFirst() { #expect(r.map(\.bitPattern) == results[0].map(\.bitPattern)) }
    }

    /// The AVX-512 bf16 packing of A (rounding with integer ops, a register transpose) against
    /// the scalar packing, byte for byte: every row count of a tile, k around the 32-wide blocks
    /// and odd k (its zero pad), a row stride wider than k, a tile range that skips tiles, and
    /// values that test the rounding: ties, NaN, ±inf, denormals (which `vcvtne2ps2bf16` would
    /// flush), negative zero.
    @Test("bf16 packing of A: AVX-512 equals the scalar bytes", arguments: [(1, 1), (14, 32), (15, 33), (29, 63), (40, 96), (3, 100)])
    func bf16PackingMatchesScalar(m: Int, k: Int) throws {
        try #require(rmas_isa_supported(Int32(RMAS_ISA_AVX512VNNI)) != 0 && GEMMFormat.bfloat16.isSupported, "no AVX512-BF16 here")
        let lda = k + 5
        var a = ThreadedKernelTests.random(m * lda, seed: UInt64(m * 1000 + k))
        let special: [Float] = [.nan, -.nan, .infinity, -.infinity, Float(bitPattern: 0x0000_0001), Float(bitPattern: 0x807F_FFFF),
                                Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x3F80_7FFF), -0.0,
                                Float(bitPattern: 0x7F7F_FFFF), Float(bitPattern: 0x7FA0_0000)]
        for (i, v) in special.enumerated() where i * 7 < a.count { a[i * 7] = v }
        let bytes = rmas_gemm_packed_a_bytes(Int32(RMAS_GEMM_BF16), Int64(m), Int64(k)), tiles = Int64((m + 13) / 14)
        for range in [0..<tiles, min(1, tiles - 1)..<tiles] {
            var packed: [[UInt8]] = []
            for isa in [RMAS_ISA_SCALAR, RMAS_ISA_AVX512VNNI] {
                var out = [UInt8](repeating: 0xAB, count: bytes)
                let status = a.withUnsafeBufferPointer { ap in
                    out.withUnsafeMutableBytes {
                        rmas_gemm_pack_a_isa(Int32(isa), Int32(RMAS_GEMM_BF16), ap.baseAddress!, Int64(lda), 0, Int64(m), Int64(k),
                                             range.lowerBound, range.upperBound, $0.baseAddress!)
                    }
                }
                #expect(status == 0)
                packed.append(out)
            }
            let differing = zip(packed[0], packed[1]).filter { $0 != $1 }.count
            #expect(differing == 0, "\(differing) of \(bytes) bytes differ, tiles \(range)")
        }
    }

    /// Whole-operand packing (per-call products: no zero fill first) writes exactly the bytes of a
    /// zero-filled operand packed piecewise, on every level, for B stored K × N and N × K (Kᵀ),
    /// into storage that starts as garbage.
    @Test("whole-operand B packing equals zero fill + piecewise packing", arguments: [(1, 1), (16, 32), (17, 33), (63, 29), (256, 70), (5, 100)])
    func wholeOperandPacking(k: Int, n: Int) {
        for format in GEMMFormat.allCases where format.isSupported {
            let code = format == .float32 ? Int32(RMAS_GEMM_F32) : Int32(RMAS_GEMM_BF16)
            for columnsContiguous in [false, true] {
                let stride = (columnsContiguous ? k : n) + 3
                var src = ThreadedKernelTests.random((columnsContiguous ? n : k) * stride, seed: UInt64(k * 100 + n))
                src[0] = .nan
                let (kStride, jStride) = columnsContiguous ? (1, stride) : (stride, 1)
                let expected = PackedMatrix(format: format, k: k, n: n)
                src.withUnsafeBufferPointer {
                    expected.pack($0.baseAddress!, kStride: kStride, jStride: jStride, k0: 0, kCount: k, j0: 0, jCount: n)
                }
                let want = Array(UnsafeRawBufferPointer(start: expected.baseAddress, count: expected.byteCount))
                for isa in [RMAS_ISA_SCALAR, RMAS_ISA_AVX2, RMAS_ISA_AVX512VNNI] where rmas_isa_supported(Int32(isa)) != 0 {
                    var out = [UInt8](repeating: 0xAB, count: expected.byteCount)
                    let status = src.withUnsafeBufferPointer { sp in
                        out.withUnsafeMutableBytes {
                            rmas_gemm_pack_b_all_isa(Int32(isa), code, sp.baseAddress!, Int64(kStride), Int64(jStride),
                                                     Int64(k), Int64(n), $0.baseAddress!)
                        }
                    }
                    #expect(status == 0)
                    let differing = zip(out, want).filter { $0 != $1 }.count
                    #expect(differing == 0, "\(format) isa \(isa) columns contiguous \(columnsContiguous): \(differing) bytes differ")
                }
            }
        }
    }

    @Test("each row's result is the same alone as among other rows", arguments: GEMMFormat.allCases)
    func rowsIndependent(format: GEMMFormat) {
        guard format.isSupported else { return }
        let (m, k, n) = (33, 260, 40)
        let a = ThreadedKernelTests.random(m * k, seed: 7), b = ThreadedKernelTests.random(k * n, seed: 8)
        let all = Self.run(format: format, m: m, k: k, n: n, a: a, transposeA: false, b: b, alpha: 1, beta: 0,
                           c0: [Float](repeating: 0, count: m * n), threads: 2)
        for row in [0, 13, 14, 32] {
            let alone = Self.run(format: format, m: 1, k: k, n: n, a: Array(a[(row * k)..<((row + 1) * k)]), transposeA: false,
                                 b: b, alpha: 1, beta: 0, c0: [Float](repeating: 0, count: n), threads: 1)
            #expect(alone.map(\.bitPattern) == all[(row * n)..<((row + 1) * n)].map(\.bitPattern), "row \(row)")
        }
    }

    @Test("packing in pieces (row ranges, as weights are packed) equals packing at once")
    func piecewisePacking() {
        for format in GEMMFormat.allCases where format.isSupported {
            let (m, k, n) = (5, 71, 45)
            let a = ThreadedKernelTests.random(m * k, seed: 11), b = ThreadedKernelTests.random(k * n, seed: 12)
            let whole = Self.run(format: format, m: m, k: k, n: n, a: a, transposeA: false, b: b, alpha: 1, beta: 0,
                                 c0: [Float](repeating: 0, count: m * n), threads: 1)
            // Column pieces from an N × K copy (forward weights) and k pieces of even length.
            let bt = (0..<(n * k)).map { b[($0 % k) * n + $0 / k] }
            let byColumns = PackedMatrix(format: format, k: k, n: n), byRows = PackedMatrix(format: format, k: k, n: n)
            bt.withUnsafeBufferPointer { p in
                for j0 in stride(from: 0, to: n, by: 7) {
                    byColumns.pack(p.baseAddress! + j0 * k, kStride: 1, jStride: k, k0: 0, kCount: k, j0: j0, jCount: min(7, n - j0))
                }
            }
            b.withUnsafeBufferPointer { p in
                for k0 in stride(from: 0, to: k, by: 10) {
                    byRows.pack(p.baseAddress! + k0 * n, kStride: n, jStride: 1, k0: k0, kCount: min(10, k - k0), j0: 0, jCount: n)
                }
            }
            for packed in [byColumns, byRows] {
                var c = [Float](repeating: 0, count: m * n)
                a.withUnsafeBufferPointer { ap in
                    c.withUnsafeMutableBufferPointer {
                        PackedGEMM.multiply(m: m, a: ap.baseAddress!, lda: k, b: packed, c: $0.baseAddress!, ldc: n, threads: 1)
                    }
                }
                #expect(c.map(\.bitPattern) == whole.map(\.bitPattern), "\(format)")
            }
        }
    }
}
