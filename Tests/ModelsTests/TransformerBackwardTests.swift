import Foundation
import Kernels
import Models
import TestSupport
import Testing

/// The backward pass w.r.t. input embeddings on tiny random models.
@Suite("Transformer backward")
struct TransformerBackwardTests {
    static func randomVector(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in rng.nextGaussian() * scale }
    }

    /// A tiny model, the embeddings X `[T × D]` of tokens `(i·stride) % 200 + offset`, and a random
    /// hidden-state gradient R `[T × D]` from `seed`.
    static func tinyCase(_ architecture: Architecture, positions t: Int, stride: Int, offset: Int, seed: UInt64) throws
        -> (model: Transformer, x: [Float], r: [Float]) {
        let model = try TinyModel(architecture).transformer()
        let x = model.embeddings((0..<t).map { Int32($0 * stride % 200 + offset) })
        return (model, x, randomVector(t * model.configuration.width, seed: seed))
    }

    @Test("training forward equals the inference forward", arguments: TransformerInvariantTests.architectures)
    func trainingForwardMatches(_ architecture: Architecture) throws {
        let model = try TinyModel(architecture).transformer()
        let t = 13, d = model.configuration.width
        let x = model.embeddings((0..<t).map { Int32($0 * 7 % 200 + 3) })
        let (_, hidden) = x.withUnsafeBufferPointer { model.forwardForTraining(embeddings: $0.baseAddress!, count: t) }
        let reference = x.withUnsafeBufferPointer {
            model.forward(embeddings: $0.baseAddress!, count: t, cache: KVCache(configuration: model.configuration, capacity: t),
                          outputs: .all, logits: false).hidden
        }
        #expect(hidden.count == t * d)
        #expect(zip(hidden, reference).allSatisfy { $0 == $1 })
    }

    /// L = Σ H ⊙ R; the analytic directional derivative ⟨dL/dX, V⟩ against a five-point central
    /// difference of the Float32 forward (ε = 3e-3: truncation ~ε⁴ ≈ 1e-5 relative, rounding
    /// ~1e-7·|L|/ε ≈ 1e-4). Measured 2e-5 … 1e-4; the tight check is against Float64 and PyTorch.
    @Test("directional derivative against central differences",
          arguments: TransformerInvariantTests.architectures, [ActivationMemory.recompute, .keep])
    func directionalDerivative(_ architecture: Architecture, memory: ActivationMemory) throws {
        let model = try TinyModel(architecture).transformer()
        let t = 13, d = model.configuration.width
        let x = model.embeddings((0..<t).map { Int32($0 * 11 % 200 + 5) })
        let r = Self.randomVector(t * d, seed: 7), v = Self.randomVector(t * d, seed: 8)
        func loss(_ input: [Float]) -> Double {
            let h = input.withUnsafeBufferPointer { model.forwardForTraining(embeddings: $0.baseAddress!, count: t).hidden }
            return zip(h, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let (tape, _) = x.withUnsafeBufferPointer { model.forwardForTraining(embeddings: $0.baseAddress!, count: t, memory: memory) }
        var dx = [Float](repeating: 0, count: t * d)
        r.withUnsafeBufferPointer { rp in
            dx.withUnsafeMutableBufferPointer { model.backward(tape: tape, hiddenGradient: rp.baseAddress!, embeddingGradient: $0.baseAddress!) }
        }
        let analytic = zip(dx, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let epsilon: Float = 3e-3
        func shifted(_ k: Float) -> Double { loss(zip(x, v).map { $0 + k * epsilon * $1 }) }
        let numeric = (8 * (shifted(1) - shifted(-1)) - (shifted(2) - shifted(-2))) / Double(12 * epsilon)
        let relative = abs(analytic - numeric) / max(abs(numeric), 1e-6)
        print("[backward] \(architecture) \(memory): analytic \(analytic) numeric \(numeric) relative \(relative)")
        #expect(relative < 1e-3)
    }
}

extension TransformerBackwardTests {
    @Test("kept activations and recomputation give identical gradients", arguments: TransformerInvariantTests.architectures)
    func memoryModesAgree(_ architecture: Architecture) throws {
        let t = 17
        let (model, x, r) = try Self.tinyCase(architecture, positions: t, stride: 5, offset: 9, seed: 21)
        let d = model.configuration.width
        func gradient(_ memory: ActivationMemory, backwards: Int) -> [Float] {
            let (tape, _) = x.withUnsafeBufferPointer { model.forwardForTraining(embeddings: $0.baseAddress!, count: t, memory: memory) }
            var dx = [Float](repeating: .nan, count: t * d)
            for _ in 0..<backwards {
                r.withUnsafeBufferPointer { rp in
                    dx.withUnsafeMutableBufferPointer { model.backward(tape: tape, hiddenGradient: rp.baseAddress!, embeddingGradient: $0.baseAddress!) }
                }
            }
            return dx
        }
        let kept = gradient(.keep, backwards: 1), recomputed = gradient(.recompute, backwards: 2)
        #expect(kept == recomputed)
    }

    /// A cache that already holds the untrained prefix (the plain forward a rollout or prefill
    /// left behind, trimmed back) replaces the tape's own prefix forward: the same hidden states
    /// and input gradients as computing it, since its K/V are those of the same positions.
    @Test("a prefilled prefix cache gives the tape's own prefix forward's hidden states and gradients",
          arguments: TransformerInvariantTests.architectures)
    func prefilledPrefix(_ architecture: Architecture) throws {
        let model = try TinyModel(architecture).transformer()
        let t = 15, p = 6, d = model.configuration.width
        let x = model.embeddings((0..<t).map { Int32($0 * 11 % 200 + 4) })
        let r = Self.randomVector((t - p) * d, seed: 5)
        func run(prefilled: KVCache?) -> (hidden: [Float], gradient: [Float]) {
            let (tape, hidden) = x.withUnsafeBufferPointer {
                model.forwardForTraining(embeddings: $0.baseAddress!, count: t, trainedFrom: p, prefilled: prefilled, memory: .keep)
            }
            var dx = [Float](repeating: .nan, count: (t - p) * d)
            r.withUnsafeBufferPointer { rp in
                dx.withUnsafeMutableBufferPointer { model.backward(tape: tape, hiddenGradient: rp.baseAddress!, embeddingGradient: $0.baseAddress!) }
            }
            return (hidden, dx)
        }
        // The prefix forward exactly as the tape runs it, then more positions cached and trimmed away.
        let cache = KVCache(configuration: model.configuration, capacity: 4)
        x.withUnsafeBufferPointer {
            _ = model.forward(embeddings: $0.baseAddress!, count: p, cache: cache, outputs: .none, logits: false)
            _ = model.forward(embeddings: $0.baseAddress! + p * d, count: 3, cache: cache, outputs: .none, logits: false)
        }
        cache.trim(to: p)
        let own = run(prefilled: nil), reused = run(prefilled: cache)
        #expect(own.hidden == reused.hidden)
        #expect(own.gradient == reused.gradient)
        #expect(own.gradient.allSatisfy { $0.isFinite })
    }
}
