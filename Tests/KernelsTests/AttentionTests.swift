@testable import Kernels
import CKernels
import Testing

@Suite("Attention, RoPE, norms and activations against naive references")
struct AttentionTests {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in rng.nextGaussian() }
    }

    /// Naive Float64 causal GQA attention with an optional sliding window.
    static func naive(_ s: Attention.Shape, q: [Float], k: [Float], v: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: s.queries * s.heads * s.headDim)
        for t in 0..<s.queries {
            for h in 0..<s.heads {
                let kvh = h / (s.heads / s.kvHeads), p = s.queryStart + t
                let keys = (0...p).filter { s.window == nil || p - $0 < s.window! }
                let scores = keys.map { j in
                    (0..<s.headDim).reduce(0.0) { $0 + Double(q[(t * s.heads + h) * s.headDim + $1]) * Double(k[(j * s.kvHeads + kvh) * s.headDim + $1]) } * Double(s.scale)
                }
                let m = scores.max()!
                let e = scores.map { Foundation.exp($0 - m) }, z = e.reduce(0, +)
                for d in 0..<s.headDim {
                    out[(t * s.heads + h) * s.headDim + d] = Float(zip(keys, e).reduce(0.0) { $0 + $1.1 / z * Double(v[($1.0 * s.kvHeads + kvh) * s.headDim + d]) })
                }
            }
        }
        return out
    }

    @Test("matches the naive reference", arguments: [nil, 3] as [Int?])
    func attention(window: Int?) {
        let s = Attention.Shape(queries: 5, heads: 4, kvHeads: 2, headDim: 32, queryStart: 4, scale: 0.2, window: window)
        let n = s.queryStart + s.queries
        let q = Self.random(s.queries * s.heads * s.headDim, seed: 1)
        let k = Self.random(n * s.kvHeads * s.headDim, seed: 2), v = Self.random(n * s.kvHeads * s.headDim, seed: 3)
        var out = [Float](repeating: .nan, count: q.count)
        Attention.forward(shape: s, q: q, keys: k, values: v, out: &out, threads: 2)
        let expected = Self.naive(s, q: q, k: k, v: v)
        #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-5 })
        for queryBlock in [1, 2, Attention.defaultQueryBlock] {  // many tiles, uneven tiles, one tile
            var viaGEMM = [Float](repeating: .nan, count: q.count)
            Attention.forwardWithGEMM(shape: s, q: q, keys: k, values: v, out: &viaGEMM, queryBlock: queryBlock)
            #expect(zip(viaGEMM, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "query block \(queryBlock)")
        }
    }

    /// Prefill attention on our own threads (tiles spread over them, each product by the built-in
    /// GEMM on its thread): the reference's values, and the same bits on 1, 2 or 3 threads (each
    /// tile is one computation wherever it runs). Causal prompts of Qwen2.5's (14/2 × 64) and
    /// Gemma-3's (4/1 × 256, sliding window) shapes, from an empty cache and after a prefix.
    @Test("prefill attention on own threads matches the reference, bit-identical across thread counts",
          arguments: [(14, 2, 64, nil), (4, 1, 256, 48)] as [(Int, Int, Int, Int?)])
    func ownThreads(heads: Int, kvHeads: Int, headDim: Int, window: Int?) {
        for (queries, start) in [(100, 0), (70, 33)] {
            let s = Attention.Shape(queries: queries, heads: heads, kvHeads: kvHeads, headDim: headDim, queryStart: start,
                                    scale: 1 / Float(headDim).squareRoot(), window: window)
            let n = start + queries
            let q = Self.random(queries * heads * headDim, seed: 21), k = Self.random(n * kvHeads * headDim, seed: 22)
            let v = Self.random(n * kvHeads * headDim, seed: 23)
            let expected = Self.naive(s, q: q, k: k, v: v)
            var outputs: [[Float]] = []
            for threads in [1, 2, 3] {
                var out = [Float](repeating: .nan, count: q.count)
                Attention.forwardWithGEMM(shape: s, q: q, keys: k, values: v, out: &out, queryBlock: 32, threads: threads)
                #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "T \(queries) from \(start), \(threads) threads")
                outputs.append(out)
            }
            #expect(outputs[1].map(\.bitPattern) == outputs[0].map(\.bitPattern) && outputs[2].map(\.bitPattern) == outputs[0].map(\.bitPattern))
            var viaForward = [Float](repeating: .nan, count: q.count)
            Attention.forward(shape: s, q: q, keys: k, values: v, out: &viaForward, threads: 2, ownThreads: true)
            #expect(viaForward.map(\.bitPattern) == outputs[0].map(\.bitPattern), "forward(ownThreads:) takes this path")
        }
    }

    /// The grouped decode kernels (C, AVX-512) against the per-head Swift loop: bit-for-bit, so
    /// answers recorded before them stay reproducible. Shapes of SmolLM2 (9/3 × 64), Qwen2.5
    /// (14/2 × 64), Gemma-3 (4/1 × 256), plain MHA, a group wider than one 8-head pass, spans with
    /// and without a 16-key remainder, a sliding window, and several queries.
    @Test("grouped decode attention equals the per-head loop bit for bit",
          arguments: [(9, 3, 64), (14, 2, 64), (4, 1, 256), (2, 2, 16), (9, 1, 32), (6, 2, 48)])
    func groupedEqualsPerHead(heads: Int, kvHeads: Int, headDim: Int) throws {
        try #require(rmas_attention_supported(Int32(headDim)) != 0, "no AVX-512 here: the grouped path is not taken")
        for (queries, start, window) in [(1, 0, nil), (1, 37, nil), (1, 700, nil), (3, 64, nil), (2, 300, 100)] as [(Int, Int, Int?)] {
            let s = Attention.Shape(queries: queries, heads: heads, kvHeads: kvHeads, headDim: headDim, queryStart: start,
                                    scale: 1 / Float(headDim).squareRoot(), window: window)
            let n = start + queries
            let q = Self.random(queries * heads * headDim, seed: 11), k = Self.random(n * kvHeads * headDim, seed: 12)
            let v = Self.random(n * kvHeads * headDim, seed: 13)
            for threads in [1, 2, 3] {
                var grouped = [Float](repeating: .nan, count: q.count), perHead = grouped
                Attention.forwardGrouped(shape: s, q: q, keys: k, values: v, out: &grouped, threads: threads)
                Attention.forwardPerHead(shape: s, q: q, keys: k, values: v, out: &perHead, threads: threads)
                let differing = zip(grouped, perHead).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "\(differing) of \(q.count) differ: T \(queries) from \(start), window \(String(describing: window)), \(threads) threads")
            }
        }
    }

    @Test func vectorExpIsAccurate() {
        for x in stride(from: Float(-80), through: 80, by: 0.37) {
            let ours = VectorMath.exp(x), exact = Foundation.exp(Double(x))
            #expect(abs(Double(ours) - exact) <= 4e-7 * exact, "exp(\(x))")
        }
        #expect(VectorMath.exp(-200) == 0 && VectorMath.exp(200) == .infinity)
    }

    @Test func ropePairingsRotateTheRightPairs() {
        // Position 1, 4 rotated dims, base 1: θ0 = 1, θ1 = 1 → every pair rotates by 1 radian.
        for pairing in [RoPETable.Pairing.adjacent, .halfSplit] {
            let table = RoPETable(positions: [1], dimensions: 4, base: 1, pairing: pairing)
            var x: [Float] = [1, 2, 3, 4, 9]  // headDim 5: the last element passes through
            table.apply(&x, rows: 1, heads: 1, headDim: 5)
            let (c, s) = (Float(Foundation.cos(1.0)), Float(Foundation.sin(1.0)))
            let pairs = pairing == .adjacent ? [(0, 1), (2, 3)] : [(0, 2), (1, 3)]
            var expected: [Float] = [1, 2, 3, 4, 9]
            for (i, j) in pairs {
                let (a, b) = (expected[i], expected[j])
                expected[i] = a * c - b * s
                expected[j] = a * s + b * c
            }
            #expect(zip(x, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(pairing)")
        }
    }

    @Test func rmsNormAndGatedActivations() {
        let x: [Float] = [1, -2, 3, 0.5], w: [Float] = [1, 2, 0.5, 1]
        var y = [Float](repeating: 0, count: 4)
        RMSNorm.forward(x: x, weight: w, y: &y, rows: 1, width: 4, epsilon: 0)
        let meanSquare: Float = (1 + 4 + 9 + 0.25) / 4
        let rms: Float = meanSquare.squareRoot()
        let expected: [Float] = zip(x, w).map { $0 / rms * $1 }
        #expect(zip(y, expected).allSatisfy { abs($0 - $1) < 1e-6 })

        let g: [Float] = (0..<37).map { Float($0) * 0.4 - 7 }, u = [Float](repeating: 2, count: 37)
        var out = [Float](repeating: 0, count: 37)
        GatedActivation.swiGLU.forward(gate: g, up: u, out: &out, count: 37)
        #expect(zip(out, g).allSatisfy { abs($0 - 2 * $1 / (1 + Foundation.exp(-$1))) < 1e-5 })
        GatedActivation.geGLUTanh.forward(gate: g, up: u, out: &out, count: 37)
        func gelu(_ x: Float) -> Float {
            let inner: Float = 0.7978845608 * (x + 0.044715 * x * x * x)
            return 0.5 * x * (1 + Foundation.tanh(inner))
        }
        #expect(zip(out, g).allSatisfy { o, x in abs(o - 2 * gelu(x)) < 1e-5 })
    }

    @Test func blasMatchesReference() {
        let (m, n, k) = (7, 5, 33)
        let a = Self.random(m * k, seed: 4), b = Self.random(n * k, seed: 5)
        var c = [Float](repeating: 0, count: m * n), r = c
        BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, transposeB: true, c: &c, ldc: n)
        BLAS.gemmReference(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, transposeB: true, c: &r, ldc: n)
        #expect(zip(c, r).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}

import Foundation
