import Foundation
import Kernels
import Models
import TestSupport
import Testing

@Suite("Latent rollout")
struct LatentRolloutTests {
    /// A fixed random D → D map with a tanh, standing in for a trained inner link (the rollout
    /// only needs some deterministic map; the links have their own tests).
    static func link(width d: Int, seed: UInt64) -> Transformer.HiddenToEmbedding {
        var rng = SplitMix64(seed: seed)
        let w = (0..<(d * d)).map { _ in rng.nextGaussian() / Float(d).squareRoot() }
        return { h, e in
            for i in 0..<d {
                var s: Float = 0
                for j in 0..<d { s += w[i * d + j] * h[j] }
                e[i] = 0.5 * tanh(s)
            }
        }
    }

    /// Step by step, each cached h_i equals a full recompute of prompt + the cached e₁ … e_i
    /// (no compounding): summation order only, measured ~1e-6; 2e-5 catches any position or cache
    /// slip (those move states by O(1)). Free-running, the feedback map amplifies those roundings
    /// (measured up to 2.5e-4 after 9 steps of the tiny llama), so the end-to-end bound is 2e-3.
    @Test("KV-cached rollout equals the full-recompute reference", arguments: TransformerInvariantTests.architectures)
    func cachedEqualsRecompute(_ architecture: Architecture) throws {
        let model = try TinyModel(architecture).transformer()
        let d = model.configuration.width, m = 9
        let prompt = model.embeddings((0..<7).map { Int32($0 * 17 % 200 + 4) })
        let link = Self.link(width: d, seed: 5)
        let cache = KVCache(configuration: model.configuration)
        let cached = prompt.withUnsafeBufferPointer {
            model.latentRollout(prompt: $0.baseAddress!, count: 7, steps: m, cache: cache, link: link)
        }
        let reference = model.latentRolloutRecomputing(prompt: prompt, steps: m, link: link)
        #expect(cache.count == 7 + m - 1)
        let scale = reference.hidden.map(abs).max()!
        let worst = zip(cached.hidden, reference.hidden).map { abs($0 - $1) }.max()! / scale
        let worstEmbedding = zip(cached.embeddings, reference.embeddings).map { abs($0 - $1) }.max()!
        var worstStep: Float = 0
        for i in 0..<m {
            let sequence = prompt + Array(cached.embeddings[0..<(i * d)])
            let h = sequence.withUnsafeBufferPointer {
                model.forward(embeddings: $0.baseAddress!, count: 7 + i, cache: KVCache(configuration: model.configuration),
                              outputs: .last, logits: false).hidden
            }
            let step = zip(h, cached.hidden[(i * d)..<((i + 1) * d)]).map { abs($0 - $1) }.max()! / h.map(abs).max()!
            worstStep = max(worstStep, step)
        }
        print("[rollout] \(architecture): per step \(worstStep); free-running hidden \(worst), embeddings \(worstEmbedding)")
        #expect(worstStep < 2e-5)
        #expect(worst < 2e-3)
        #expect(worstEmbedding < 2e-3)
    }

    @Test("a rollout can be followed by text decoding from the same cache")
    func rolloutThenDecode() throws {
        let model = try TinyModel(.qwen2).transformer()
        let d = model.configuration.width
        let prompt = model.embeddings([5, 6, 7])
        let cache = KVCache(configuration: model.configuration)
        let rollout = prompt.withUnsafeBufferPointer {
            model.latentRollout(prompt: $0.baseAddress!, count: 3, steps: 4, cache: cache, link: Self.link(width: d, seed: 2))
        }
        let last = rollout.embeddings.withUnsafeBufferPointer {
            model.forward(embeddings: $0.baseAddress! + 3 * d, count: 1, cache: cache).logits
        }
        let whole = (prompt + rollout.embeddings).withUnsafeBufferPointer {
            model.forward(embeddings: $0.baseAddress!, count: 7, cache: KVCache(configuration: model.configuration)).logits
        }
        #expect(cache.count == 7)
        #expect(zip(last, whole).map { abs($0 - $1) }.max()! < 1e-4)
    }
}
