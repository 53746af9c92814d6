import Foundation
import Kernels
import Testing

/// Each backward kernel (Float32) against central differences of a naive Float64 forward of the
/// same op, with loss L = Σ R ⊙ op(x) for a random R (so dL/dy = R).
@Suite("Backward kernels against Float64 finite differences")
struct BackwardOpTests {
    static func random(_ count: Int, seed: UInt64, scale: Double = 1) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Double(rng.nextGaussian()) * scale }
    }

    /// Central differences of f at x, step h (Float64 throughout).
    static func numericGradient(_ x: [Double], h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
        x.indices.map { i in
            var plus = x, minus = x
            plus[i] += h
            minus[i] -= h
            return (f(plus) - f(minus)) / (2 * h)
        }
    }

    /// max |a − b| / max(1e-3, max |b|): a Float32 analytic gradient vs a Float64 numeric one.
    static func relativeError(_ analytic: [Float], _ numeric: [Double]) -> Double {
        let scale = max(1e-3, numeric.map(abs).max() ?? 0)
        return zip(analytic, numeric).map { abs(Double($0) - $1) }.max()! / scale
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    @Test("RMSNorm")
    func rmsNorm() {
        let rows = 3, width = 37, eps = 1e-6
        let x = Self.random(rows * width, seed: 1), w = Self.random(width, seed: 2).map { 1 + 0.2 * $0 }
        let r = Self.random(rows * width, seed: 3)
        func forward(_ x: [Double]) -> [Double] {
            (0..<rows).flatMap { t -> [Double] in
                let row = Array(x[(t * width)..<((t + 1) * width)])
                let scale = 1 / (row.reduce(0) { $0 + $1 * $1 } / Double(width) + eps).squareRoot()
                return row.indices.map { row[$0] * scale * w[$0] }
            }
        }
        let numeric = Self.numericGradient(x) { Self.dot(forward($0), r) }
        var dx = [Float](repeating: 0.5, count: rows * width)  // accumulate adds to existing values
        RMSNorm.backward(x: x.map(Float.init), weight: w.map(Float.init), dy: r.map(Float.init), dx: &dx,
                         rows: rows, width: width, epsilon: Float(eps), accumulate: true)
        #expect(Self.relativeError(dx.map { $0 - 0.5 }, numeric) < 1e-4)
    }

    @Test("RoPE", arguments: [RoPETable.Pairing.adjacent, .halfSplit])
    func rope(_ pairing: RoPETable.Pairing) {
        let t = 3, heads = 2, headDim = 10, dims = 8, base = 10_000.0
        let table = RoPETable(positions: 5..<8, dimensions: dims, base: Float(base), pairing: pairing)
        let x = Self.random(t * heads * headDim, seed: 4), r = Self.random(x.count, seed: 5)
        func forward(_ x: [Double]) -> [Double] {
            var y = x
            for p in 0..<t {
                for h in 0..<heads {
                    let o = (p * heads + h) * headDim
                    for i in 0..<(dims / 2) {
                        let angle = Double(5 + p) * pow(base, -2 * Double(i) / Double(dims))
                        let (a, b) = pairing == .adjacent ? (o + 2 * i, o + 2 * i + 1) : (o + i, o + i + dims / 2)
                        y[a] = x[a] * cos(angle) - x[b] * sin(angle)
                        y[b] = x[a] * sin(angle) + x[b] * cos(angle)
                    }
                }
            }
            return y
        }
        let numeric = Self.numericGradient(x) { Self.dot(forward($0), r) }
        var dx = r.map(Float.init)
        table.applyBackward(&dx, rows: t, heads: heads, headDim: headDim)
        #expect(Self.relativeError(dx, numeric) < 1e-4)
    }

    @Test("gated activations", arguments: [GatedActivation.swiGLU, .geGLUTanh])
    func gatedActivation(_ activation: GatedActivation) {
        let n = 37
        let gate = Self.random(n, seed: 6, scale: 2), up = Self.random(n, seed: 7), r = Self.random(n, seed: 8)
        func act(_ g: Double) -> Double {
            switch activation {
            case .swiGLU: g / (1 + exp(-g))
            case .geGLUTanh: 0.5 * g * (1 + tanh((2 / Double.pi).squareRoot() * (g + 0.044715 * g * g * g)))
            }
        }
        let joined = gate + up
        let numeric = Self.numericGradient(joined) { v in (0..<n).reduce(0) { $0 + act(v[$1]) * v[n + $1] * r[$1] } }
        var dGate = [Float](repeating: 0, count: n), dUp = [Float](repeating: 0, count: n)
        activation.backward(gate: gate.map(Float.init), up: up.map(Float.init), dOut: r.map(Float.init),
                            dGate: &dGate, dUp: &dUp, count: n)
        #expect(Self.relativeError(dGate + dUp, numeric) < 1e-4)
    }

    @Test("attention (GQA, cached prefix, sliding window)", arguments: [nil, 4] as [Int?])
    func attention(window: Int?) {
        let t = 5, start = 3, n = start + t, heads = 4, kvHeads = 2, dh = 8
        let shape = Attention.Shape(queries: t, heads: heads, kvHeads: kvHeads, headDim: dh, queryStart: start,
                                    scale: 1 / Float(dh).squareRoot(), window: window)
        let q = Self.random(t * heads * dh, seed: 9), k = Self.random(n * kvHeads * dh, seed: 10)
        let v = Self.random(n * kvHeads * dh, seed: 11), r = Self.random(t * heads * dh, seed: 12)
        func forward(_ q: [Double], _ k: [Double], _ v: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: t * heads * dh)
            for p in 0..<t {
                for h in 0..<heads {
                    let g = h / (heads / kvHeads), keys = Array(shape.keyRange(query: p))
                    let scores = keys.map { j in
                        (0..<dh).reduce(0.0) { $0 + q[(p * heads + h) * dh + $1] * k[(j * kvHeads + g) * dh + $1] } / Double(dh).squareRoot()
                    }
                    let m = scores.max()!, e = scores.map { exp($0 - m) }, total = e.reduce(0, +)
                    for (jj, j) in keys.enumerated() {
                        for i in 0..<dh { out[(p * heads + h) * dh + i] += e[jj] / total * v[(j * kvHeads + g) * dh + i] }
                    }
                }
            }
            return out
        }
        let all = q + k + v, (nq, nk) = (q.count, k.count)
        let numeric = Self.numericGradient(all) { a in
            Self.dot(forward(Array(a[0..<nq]), Array(a[nq..<(nq + nk)]), Array(a[(nq + nk)...])), r)
        }
        let out = forward(q, k, v).map(Float.init)
        for queryBlock in [2, Attention.defaultQueryBlock] {  // several tiles (dK/dV accumulate across them), one tile
            var dQ = [Float](repeating: 0, count: q.count), dK = [Float](repeating: 0, count: k.count)
            var dV = [Float](repeating: 0, count: v.count)
            Attention.backward(shape: shape, q: q.map(Float.init), keys: k.map(Float.init), values: v.map(Float.init),
                               out: out, dOut: r.map(Float.init), dQ: &dQ, dKeys: &dK, dValues: &dV, queryBlock: queryBlock)
            #expect(Self.relativeError(dQ + dK + dV, numeric) < 1e-4, "query block \(queryBlock)")
        }
    }

    @Test("BLAS gemm with transposed A equals the reference loop")
    func gemmTransposeA() {
        let m = 5, n = 7, k = 9
        let a = Self.random(k * m, seed: 13).map(Float.init), b = Self.random(k * n, seed: 14).map(Float.init)
        var c = [Float](repeating: 1, count: m * n), reference = c
        BLAS.gemm(m: m, n: n, k: k, alpha: 0.5, a: a, lda: m, transposeA: true, b: b, ldb: n, transposeB: false,
                  beta: 1, c: &c, ldc: n)
        BLAS.gemmReference(m: m, n: n, k: k, alpha: 0.5, a: a, lda: m, transposeA: true, b: b, ldb: n,
                           transposeB: false, beta: 1, c: &reference, ldc: n)
        #expect(zip(c, reference).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
