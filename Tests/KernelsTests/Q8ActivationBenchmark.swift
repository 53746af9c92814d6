import CKernels
import Foundation
import Kernels
import Testing

// MARK: - Agreement on the real models' decode shapes, and an opt-in benchmark

/// On the decode shapes of the three real models, `matvecQuantized` (8-bit activations) agrees
/// with the float `matvec` within the activation rounding error, single- and two-threaded.
/// Set RMAS_Q8_BENCH=1 to also print weight GB/s and µs per matvec of both.
@Suite("8-bit activations on real decode shapes")
struct Q8ActivationBenchmark {
    static let benchmarking = ProcessInfo.processInfo.environment["RMAS_Q8_BENCH"] != nil

    /// ‖a − b‖ / ‖a‖.
    static func relativeError(_ a: UnsafeMutableBufferPointer<Float>, _ b: [Float]) -> Double {
        var difference = 0.0, norm = 0.0
        for i in b.indices {
            difference += Double(a[i] - b[i]) * Double(a[i] - b[i])
            norm += Double(a[i]) * Double(a[i])
        }
        return (difference / max(norm, 1e-30)).squareRoot()
    }

    /// Seconds on a monotonic clock.
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    /// Fastest single call of `body` over about `budget` seconds (at least 5 calls): the machine
    /// may be shared, and the minimum is the least disturbed run.
    static func best(budget: Double = 0.4, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity, calls = 0
        let deadline = now() + budget
        while calls < 5 || now() < deadline {
            let start = now()
            body()
            best = min(best, now() - start)
            calls += 1
        }
        return best
    }

    @Test("matvecQuantized agrees with matvec (and, opted in, their throughput)")
    func throughput() throws {
        let shapes: [(GGMLType, Int, Int, String)] = [
            (.q8_0, 49152, 576, "SmolLM2 output"), (.q4_1, 1536, 576, "SmolLM2 ffn_up/gate"),
            (.q4_1, 576, 1536, "SmolLM2 ffn_down"), (.q4_1, 576, 576, "SmolLM2 attn_q/o"),
            (.q5_0, 4864, 896, "Qwen2.5 ffn_up"), (.q4_K, 896, 4864, "Qwen2.5 ffn_down"),
            (.q6_K, 896, 4864, "Qwen2.5 ffn_down"),
        ]
        if Self.benchmarking { print("isa \(String(cString: rmas_isa_name(rmas_isa_best())))") }
        for (type, rows, columns, label) in shapes {
            let bytes = randomMatrixBytes(type, rows: rows, columns: columns, seed: 1)
            let x = randomActivations(columns, seed: 2)
            var y = [Float](repeating: 0, count: rows)
            try bytes.withUnsafeBytes { raw in
                let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: rows, columns: columns)
                let gigabytes = Double(matrix.byteCount) / 1e9
                var line = "\(type) \(rows)×\(columns) (\(label), \(matrix.byteCount / 1024) KiB):"
                x.withUnsafeBufferPointer { xs in
                    y.withUnsafeMutableBufferPointer { ys in
                        for threads in [1, 2] {
                            matrix.matvec(x: xs, y: ys, threads: threads)
                            let exact = Array(ys)
                            matrix.matvecQuantized(x: xs, y: ys, threads: threads)
                            let error = Self.relativeError(ys, exact)
                            #expect(error < 0.02, "\(label) t=\(threads): relative error \(error)")
                            guard Self.benchmarking else { continue }
                            let f = Self.best { matrix.matvec(x: xs, y: ys, threads: threads) }
                            let q = Self.best { matrix.matvecQuantized(x: xs, y: ys, threads: threads) }
                            line += String(
                                format: "  t=%d float %.1f µs %.1f GB/s | q8 %.1f µs %.1f GB/s (×%.2f)",
                                threads, f * 1e6, gigabytes / f, q * 1e6, gigabytes / q, f / q)
                        }
                        guard Self.benchmarking else { return }
                        let d = Self.best { matrix.matvecQuantized(x: xs, y: ys, threads: 2, threading: .dispatch) }
                        line += String(format: " | q8 t=2 via Dispatch %.1f µs %.1f GB/s", d * 1e6, gigabytes / d)
                    }
                }
                if Self.benchmarking { print(line) }
            }
        }
    }

    /// All weight matrices of one SmolLM2-135M decode step (30 layers of Q4_1 q/k/v/o/gate/up/down
    /// plus the tied Q8_0 output matrix: 96 MiB, more than the caches), applied in model order;
    /// prints ms per token of matvecs alone for float `matvec` vs `matvecQuantized`.
    @Test("SmolLM2-135M decode-step matvecs (benchmark)", .enabled(if: benchmarking))
    func decodeStep() throws {
        let layerShapes: [(Int, Int)] = [(576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536)]
        var shapes: [(GGMLType, Int, Int)] = []
        for _ in 0 ..< 30 { shapes += layerShapes.map { (.q4_1, $0.0, $0.1) } }
        shapes.append((.q8_0, 49152, 576))
        var storage = shapes.enumerated().map { randomMatrixBytes($0.element.0, rows: $0.element.1, columns: $0.element.2, seed: UInt64($0.offset)) }
        let x = randomActivations(1536, seed: 3)
        var y = [Float](repeating: 0, count: 49152)
        let totalBytes = storage.reduce(0) { $0 + $1.count }
        // Raw pointers into `storage` (kept alive and unmodified until the end of the test).
        let matrices = try storage.indices.map { i in
            try storage[i].withUnsafeMutableBytes { raw in
                try QuantizedMatrix(base: UnsafeRawPointer(raw.baseAddress!), type: shapes[i].0, rows: shapes[i].1, columns: shapes[i].2)
            }
        }
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in
                for threads in [1, 2] {
                    matrices.last!.matvec(x: xs, y: ys, threads: threads)
                    let exact = Array(ys)
                    matrices.last!.matvecQuantized(x: xs, y: ys, threads: threads)
                    #expect(Self.relativeError(ys, exact) < 0.02)
                    let f = Self.best(budget: 3) { for m in matrices { m.matvec(x: xs, y: ys, threads: threads) } }
                    let q = Self.best(budget: 3) { for m in matrices { m.matvecQuantized(x: xs, y: ys, threads: threads) } }
                    let d = Self.best(budget: 3) {
                        for m in matrices { m.matvecQuantized(x: xs, y: ys, threads: threads, threading: .dispatch) }
                    }
                    print(String(format: "decode step (%d MiB, %d matvecs) t=%d: float %.2f ms (%.1f GB/s) | q8 %.2f ms (%.1f GB/s) | q8 via Dispatch %.2f ms",
                                 totalBytes >> 20, matrices.count, threads, f * 1e3, Double(totalBytes) / f / 1e9,
                                 q * 1e3, Double(totalBytes) / q / 1e9, d * 1e3))
                }
            }
        }
        withExtendedLifetime(storage) {}
        storage.removeAll()
    }

    /// What one fork-join of `Parallel.forEachChunk` costs (two chunks of nothing), for the
    /// break-even size below which a matvec should stay on one thread.
    @Test("Parallel.forEachChunk dispatch cost")
    func dispatchCost() {
        var times: [Double] = []
        for _ in 0 ..< 20000 {
            let start = Self.now()
            Parallel.forEachChunk(count: 2, threads: 2) { _ in }
            times.append(Self.now() - start)
        }
        times.sort()
        print(String(format: "forEachChunk(2 chunks of nothing): min %.2f µs, median %.2f µs, p90 %.2f µs",
                     times[0] * 1e6, times[times.count / 2] * 1e6, times[times.count * 9 / 10] * 1e6))
    }

    /// Median and minimum µs of back-to-back matvecQuantized calls on small SmolLM2 shapes, 1 vs
    /// 2 threads: shows whether the second worker joins in time for matvecs of tens of µs.
    @Test("small matvecs, 1 vs 2 threads")
    func smallMatvecScaling() throws {
        for (rows, columns) in [(576, 576), (1536, 576), (576, 1536)] {
            let bytes = randomMatrixBytes(.q4_1, rows: rows, columns: columns, seed: 1)
            let x = randomActivations(columns, seed: 2)
            var y = [Float](repeating: 0, count: rows)
            try bytes.withUnsafeBytes { raw in
                let matrix = try QuantizedMatrix(bytes: raw, type: .q4_1, rows: rows, columns: columns)
                var line = "q4_1 \(rows)×\(columns):"
                x.withUnsafeBufferPointer { xs in
                    y.withUnsafeMutableBufferPointer { ys in
                        for (threads, threading) in [(1, QuantizedMatvecThreading.helperThreads), (2, .helperThreads), (2, .dispatch)] {
                            var times: [Double] = []
                            for _ in 0 ..< 3000 {
                                let start = Self.now()
                                matrix.matvecQuantized(x: xs, y: ys, threads: threads, threading: threading, minimumBytesPerThread: 1)
                                times.append(Self.now() - start)
                            }
                            times.sort()
                            line += String(format: "  t=%d %@ min %.1f µs median %.1f µs", threads, "\(threading)",
                                           times[0] * 1e6, times[times.count / 2] * 1e6)
                        }
                    }
                }
                print(line)
            }
        }
    }
}
