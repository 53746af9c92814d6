import Foundation
import Kernels
import Models
import TestSupport
import Testing

/// Threads generating through one ``BatchingExecutor`` get their own answers, in shared forwards.
@Suite("Batching executor")
struct BatchingExecutorTests {
    /// Holds threads until `count` have arrived.
    final class Barrier: @unchecked Sendable {
        private let condition = NSCondition()
        private var waiting = 0
        private let count: Int
        init(_ count: Int) { self.count = count }
        func arriveAndWait() {
            condition.lock()
            waiting += 1
            condition.broadcast()
            while waiting < count { condition.wait() }
            condition.unlock()
        }
    }

    static func prompt(_ i: Int, vocabulary: Int) -> [Int32] {
        TransformerInvariantTests.tokens(5 + 3 * i, vocabulary: vocabulary, seed: UInt64(40 + i))
    }

    @Test("concurrent generations equal direct ones and share forwards")
    func concurrentGenerationsEqualDirect() throws {
        var tiny = TinyModel(.qwen2)
        tiny.weightType = .q8_0
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-batching-\(UUID().uuidString).gguf")
        try Data(tiny.serialized()).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let model = try LanguageModel(path: file.path)
        let v = model.configuration.vocabularySize, sequences = 6
        var parameters = GenerationParameters(maxTokens: 12)
        parameters.threads = 1
        let direct = (0..<sequences).map { i in
            Generator(model: model).generate(prompt: Self.prompt(i, vocabulary: v), cache: KVCache(configuration: model.configuration),
                                             parameters: parameters).tokens
        }
        // A long gather window and a barrier: every sequence is registered before the first call.
        let executor = BatchingExecutor(threads: 1, gatherWindow: .seconds(5))
        let barrier = Barrier(sequences)
        let results = Mutex<[Int: [Int32]]>([:])
        let group = DispatchGroup()
        let p = parameters
        for i in 0..<sequences {
            group.enter()
            Thread {
                executor.participate {
                    barrier.arriveAndWait()
                    let tokens = Generator(model: model, executor: executor)
                        .generate(prompt: Self.prompt(i, vocabulary: v), cache: KVCache(configuration: model.configuration), parameters: p).tokens
                    results.withLock { $0[i] = tokens }
                }
                group.leave()
            }.start()
        }
        group.wait()
        let batched = results.withLock { $0 }
        for i in 0..<sequences { #expect(batched[i] == direct[i], "sequence \(i)") }
        let statistics = executor.statistics
        #expect(statistics.largestBatch == sequences)
        // A prefill, then one call per generated token, except a last one that reached the cap.
        #expect(statistics.calls == direct.reduce(0) { $0 + 1 + ($1.count == 12 ? 11 : $1.count) })
        #expect(statistics.forwards < statistics.calls)
    }

    @Test("a forward takes at most maxPositions positions (but always one call)")
    func positionCap() throws {
        let model = try TinyModel(.llama).transformer()
        let executor = BatchingExecutor(threads: 1, maxPositions: 5, gatherWindow: .seconds(5))
        let barrier = Barrier(3)
        let group = DispatchGroup()
        let logits = Mutex<[Int: [Float]]>([:])
        for i in 0..<3 {
            group.enter()
            Thread {
                executor.participate {
                    barrier.arriveAndWait()
                    let tokens = [Int32](repeating: Int32(3 + i), count: 4 + 3 * i)  // 4, 7 and 10 positions
                    let result = executor.forward(model, tokens: tokens, cache: KVCache(configuration: model.configuration), threads: 1)
                    logits.withLock { $0[i] = result.logits }
                }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(executor.statistics.forwards == 3 && executor.statistics.largestBatch == 1)
        for i in 0..<3 {
            let alone = model.forward(tokens: [Int32](repeating: Int32(3 + i), count: 4 + 3 * i), cache: KVCache(configuration: model.configuration))
            #expect(logits.withLock { $0[i] } == alone.logits)
        }
    }

    @Test("calls from threads that never registered run at once")
    func unregisteredCallsRun() throws {
        let model = try TinyModel(.llama).transformer()
        let executor = BatchingExecutor(threads: 1, gatherWindow: .seconds(60))
        let cache = KVCache(configuration: model.configuration)
        let result = executor.forward(model, tokens: [1, 2, 3], cache: cache, threads: 1)
        let alone = model.forward(tokens: [1, 2, 3], cache: KVCache(configuration: model.configuration))
        #expect(result.logits == alone.logits && cache.count == 3)
    }
}

import Synchronization
