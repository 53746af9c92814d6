import Foundation
import Kernels
import Models

extension BenchCommand {
    /// Batched decoding as llama-batched-bench measures it: B sequences, each prefilled with its
    /// own random prompt, then `genTokens` decode steps of all B in one forward per step.
    func runBatched(_ model: LanguageModel) throws {
        let c = model.configuration, clock = ContinuousClock(), precision = try inference()
        var rng = SplitMix64(seed: 42)
        var rows: [(batch: Int, decode: Double, step: Double)] = []
        // Warm-up: one decode step at this precision, so that weights repacked on first use (the
        // int8-tiled copies) are built before any timing, as llama-batched-bench warms up.
        let warm = KVCache(configuration: c, capacity: 2)
        let first = model.transformer.embeddings([1])
        _ = Self.withPointers([first]) { pointers in
            model.transformer.forward(batch: [.init(embeddings: pointers[0], count: 1, cache: warm, precision: precision)],
                                      threads: threads)
        }
        for b in batch.values {
            var rates: [Double] = []
            for _ in 0..<repetitions {
                let caches = (0..<b).map { _ in KVCache(configuration: c, capacity: promptTokens + genTokens + 1) }
                var next = [Int32](repeating: 0, count: b)
                for (i, cache) in caches.enumerated() {
                    let prompt = (0..<max(promptTokens, 1)).map { _ in Int32(rng.next() % UInt64(c.vocabularySize)) }
                    next[i] = Self.argmax(model.transformer.forward(tokens: prompt, cache: cache, threads: threads).logits)
                }
                let start = clock.now
                for _ in 0..<genTokens {
                    let embeddings = next.map { model.transformer.embeddings([$0]) }
                    let results = Self.withPointers(embeddings) { pointers in
                        model.transformer.forward(batch: zip(pointers, caches).map {
                            .init(embeddings: $0, count: 1, cache: $1, precision: precision)
                        }, threads: threads)
                    }
                    next = results.map { Self.argmax($0.logits) }
                }
                rates.append(Double(b * genTokens) / (clock.now - start).seconds)
            }
            let rate = Self.median(rates)
            rows.append((b, rate, Double(b) / rate * 1000))
        }
        let base = rows.first { $0.batch == 1 }?.decode
        print("model \(URL(fileURLWithPath: model.path).lastPathComponent), \(threads) threads, decode activations \(precision.vectors.rawValue), "
              + "prompt \(promptTokens) per sequence, \(genTokens) steps, median of \(repetitions)")
        for row in rows {
            let ratio = base.map { String(format: "  %.2f× B=1", row.decode / $0) } ?? ""
            print(String(format: "B=%-3d %8.1f tok/s  %7.1f ms/step", row.batch, row.decode, row.step) + ratio)
        }
    }

    static func argmax(_ logits: [Float]) -> Int32 { Int32(logits.indices.max { logits[$0] < logits[$1] } ?? 0) }

    static func withPointers<T>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>]) -> T) -> T {
        let copies = arrays.map { a -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(a.count, 1))
            p.update(from: a, count: a.count)
            return p
        }
        defer { copies.forEach { $0.deallocate() } }
        return body(copies.map { UnsafePointer($0) })
    }
}
