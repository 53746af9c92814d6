import Foundation
import Kernels
import Models

extension BenchCommand {
    /// The prefill/training matrix products of the model's first layer and head, `[M × K]·Wᵀ` with
    /// M = --prompt-tokens, through the system BLAS (fp32, weights repacked by it per call) and our
    /// packed GEMM (weights packed once; fp32 and, where the CPU has AVX512-BF16, bf16), measured
    /// in alternating rounds so the VM's drift hits all alike; medians and ratios printed.
    func runGEMM(_ model: LanguageModel) throws {
        let layer = model.transformer.weights.layers[0]
        let linears: [(String, Linear)] = [("q", layer.query), ("k", layer.key), ("o", layer.attentionOutput),
                                           ("gate", layer.ffnGate), ("down", layer.ffnDown), ("head", model.transformer.weights.output)]
        let m = promptTokens
        print("model \(URL(fileURLWithPath: model.path).lastPathComponent), M = \(m), \(threads) threads, BLAS \(BLAS.backend), "
              + "median of \(repetitions) alternating rounds, GFLOP/s")
        print("shape            N×K            system BLAS   ours fp32   ours bf16   fp32/BLAS  bf16/BLAS")
        let clock = ContinuousClock()
        for (name, linear) in linears {
            let (n, k) = (linear.outputs, linear.inputs)
            let dense = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
            defer { dense.deallocate() }
            for r in 0..<n { linear.matrix.dequantizeRow(r, into: UnsafeMutableBufferPointer(start: dense + r * k, count: k)) }
            var rng = SplitMix64(seed: 7)
            let x = (0..<(m * k)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
            let y = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
            defer { y.deallocate() }
            let formats = GEMMFormat.allCases.filter(\.isSupported)
            let packed = formats.map { format -> PackedMatrix in
                let p = PackedMatrix(format: format, k: k, n: n)
                p.pack(dense, kStride: 1, jStride: k, k0: 0, kCount: k, j0: 0, jCount: n)
                return p
            }
            var blas: [Double] = [], ours = [[Double]](repeating: [], count: formats.count)
            let flop = 2 * Double(m) * Double(n) * Double(k)
            x.withUnsafeBufferPointer { xs in
                for _ in 0..<repetitions {
                    var start = clock.now
                    BLAS.gemm(m: m, n: n, k: k, a: xs.baseAddress!, lda: k, b: dense, ldb: k, transposeB: true, c: y, ldc: n)
                    blas.append(flop / (clock.now - start).seconds / 1e9)
                    for (i, p) in packed.enumerated() {
                        start = clock.now
                        PackedGEMM.multiply(m: m, a: xs.baseAddress!, lda: k, b: p, c: y, ldc: n, threads: threads)
                        ours[i].append(flop / (clock.now - start).seconds / 1e9)
                    }
                }
            }
            let base = Self.median(blas), mine = ours.map(Self.median)
            let bf16 = mine.count > 1 ? String(format: "%9.1f", mine[1]) : "        –"
            let bf16Ratio = mine.count > 1 ? String(format: "%8.2f×", mine[1] / base) : "        –"
            print(String(format: "%-6@ %8d×%-8d %9.1f   %9.1f   ", name as NSString, n, k, base, mine[0]) + bf16
                  + String(format: "   %8.2f×", mine[0] / base) + " " + bf16Ratio)
        }
    }
}
