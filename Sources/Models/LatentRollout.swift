// Provenance: the latent "thought" loop of RecursiveMAS (spec §3.1, reference
// `autoregressive_latent_rollout`): the post-final-norm last hidden state is mapped by the inner
// link to an input embedding and fed back, m times, without decoding tokens.
import Kernels

/// The result of m latent steps.
public struct LatentRollout: Sendable {
    /// `[m × D]`: h₀ (last prompt position), h₁ … h_{m−1} (after each fed-back embedding).
    public var hidden: [Float]
    /// `[m × D]`: e_{i+1} = link(h_i), the latent thoughts handed to the next agent.
    public var embeddings: [Float]
    public var steps: Int
}

extension Transformer {
    /// A D → D map from a hidden state to an input embedding (the inner link), one row at a time.
    public typealias HiddenToEmbedding = (_ hidden: UnsafePointer<Float>, _ embedding: UnsafeMutablePointer<Float>) -> Void

    /// Runs `prompt` `[T × D]` (appended to `cache`), then m − 1 fed-back latent steps, using the
    /// KV cache (forwards through `executor`): one prefill plus m − 1 single-position forwards, O(m) instead of the reference's
    /// O(m) full recomputes. Afterwards `cache` holds the prompt and e₁ … e_{m−1}; e_m is
    /// returned but not fed (call ``forward(embeddings:count:cache:outputs:logits:precision:threads:)``
    /// with it to continue, e.g. into text decoding). Always `.float32`: these states are fed back.
    public func latentRollout(
        prompt: UnsafePointer<Float>, count t: Int, steps m: Int, cache: KVCache, link: HiddenToEmbedding,
        threads: Int = Parallel.defaultThreadCount, executor: any ForwardExecutor = .direct
    ) -> LatentRollout {
        precondition(t >= 1 && m >= 1, "a rollout needs a prompt and at least one step")
        let d = configuration.width
        var hidden = [Float](repeating: 0, count: m * d), embeddings = hidden
        cache.reserve(cache.count + t + m - 1)
        var last = executor.forward(self, embeddings: prompt, count: t, cache: cache, outputs: .last, logits: false, threads: threads).hidden
        for i in 0..<m {
            hidden.withUnsafeMutableBufferPointer { h in
                embeddings.withUnsafeMutableBufferPointer { e in
                    (h.baseAddress! + i * d).update(from: last, count: d)
                    link(h.baseAddress! + i * d, e.baseAddress! + i * d)
                }
            }
            if i + 1 < m {
                last = embeddings.withUnsafeBufferPointer {
                    executor.forward(self, embeddings: $0.baseAddress! + i * d, count: 1, cache: cache, outputs: .last, logits: false,
                                     threads: threads).hidden
                }
            }
        }
        return LatentRollout(hidden: hidden, embeddings: embeddings, steps: m)
    }

    /// The reference's formulation: each step recomputes the whole sequence (prompt + latents so
    /// far) without a cache. O(m·(T + m)²); for checking ``latentRollout(prompt:count:steps:cache:link:threads:)``.
    public func latentRolloutRecomputing(
        prompt: [Float], steps m: Int, link: HiddenToEmbedding, threads: Int = Parallel.defaultThreadCount
    ) -> LatentRollout {
        let d = configuration.width
        var sequence = prompt, hidden: [Float] = [], embeddings: [Float] = []
        for _ in 0..<m {
            let count = sequence.count / d
            let h = sequence.withUnsafeBufferPointer {
                forward(embeddings: $0.baseAddress!, count: count, cache: KVCache(configuration: configuration, capacity: count),
                        outputs: .last, logits: false, threads: threads).hidden
            }
            var e = [Float](repeating: 0, count: d)
            h.withUnsafeBufferPointer { hp in e.withUnsafeMutableBufferPointer { link(hp.baseAddress!, $0.baseAddress!) } }
            hidden += h
            embeddings += e
            sequence += e
        }
        return LatentRollout(hidden: hidden, embeddings: embeddings, steps: m)
    }
}
