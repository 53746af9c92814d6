import Foundation
@testable import Agents
import Kernels
import Links
import RoleData
import Testing

@Suite("Bridge initialisation of outer links")
struct BridgeInitializationTests {
    static func random(_ count: Int, _ rng: inout SplitMix64) -> [Float] { (0..<count).map { _ in rng.nextUnitFloat() * 2 - 1 } }

    @Test("the ridge map recovers an exact linear relation and satisfies the regularised normal equations")
    func ridge() throws {
        var rng = SplitMix64(seed: 11)
        let n = 60, ds = 6, dt = 4
        let a = Self.random(n * ds, &rng), m = Self.random(dt * ds, &rng)
        var b = [Float](repeating: 0, count: n * dt)
        for k in 0..<n { for j in 0..<dt { for i in 0..<ds { b[k * dt + j] += a[k * ds + i] * m[j * ds + i] } } }
        let (exact, fit) = try BridgeInitialization.ridge(source: a, target: b, rows: n, lambda: 1e-9)
        #expect(zip(exact, m).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(fit.relativeResidual < 1e-8 && fit.pairs == n)
        // With a strong λ the map shrinks but still solves (AᵀA + λn·I)·Wᵀ = AᵀB.
        let lambda = 0.5
        let (shrunk, loose) = try BridgeInitialization.ridge(source: a, target: b, rows: n, lambda: lambda)
        #expect(loose.relativeResidual > 1e-3)
        for i in 0..<ds {
            for j in 0..<dt {
                var lhs = lambda * Double(n) * Double(shrunk[j * ds + i]), rhs = 0.0
                for k in 0..<n {
                    var pred = 0.0
                    for q in 0..<ds { pred += Double(a[k * ds + q]) * Double(shrunk[j * ds + q]) }
                    lhs += Double(a[k * ds + i]) * pred
                    rhs += Double(a[k * ds + i]) * Double(b[k * dt + j])
                }
                #expect(abs(lhs - rhs) < 1e-3 * max(1, abs(rhs)), "normal equation (\(i), \(j))")
            }
        }
    }

    @Test("apply: the linear path carries the rescaled map, the MLP branch starts near zero, LN_t takes B's scale")
    func apply() throws {
        var rng = SplitMix64(seed: 12)
        let n = 30, ds = 8, dt = 6
        let a = Self.random(n * ds, &rng), b = Self.random(n * dt, &rng).map { $0 * 0.05 + 0.2 }
        let map = Self.random(dt * ds, &rng)
        let linear = OuterLink(kind: .linearAdapter, inputWidth: ds, outputWidth: dt, prefix: "x.", seed: 1)
        try BridgeInitialization.apply(map: map, source: a, target: b, rows: n, to: linear)
        let out = linear(a, rows: n)
        let rowNorm = { (x: [Float], w: Int) in (0..<n).reduce(0.0) { $0 + Double(x[($1 * w)..<(($1 + 1) * w)].reduce(0) { $0 + $1 * $1 }).squareRoot() } / Double(n) }
        let scale = Float(rowNorm(b, dt) / rowNorm(a, ds))
        for k in 0..<n {
            for j in 0..<dt {
                var expected: Float = 0
                for i in 0..<ds { expected += scale * map[j * ds + i] * a[k * ds + i] }
                #expect(abs(out[k * dt + j] - expected) < 1e-4)
            }
        }
        let ln = OuterLink(kind: .layerNormResidualAdapter, inputWidth: ds, outputWidth: dt, prefix: "y.", seed: 2)
        let branchBefore = ln.parameters[name: "y.proj2.weight"]!.values
        try BridgeInitialization.apply(map: map, source: a, target: b, rows: n, to: ln)
        #expect(ln.parameters[name: "y.residual_proj.weight"]!.values == map.map { $0 * scale })
        #expect(ln.parameters[name: "y.proj2.weight"]!.values == branchBefore.map { $0 * 1e-3 })
        let gain = ln.parameters[name: "y.ln_target.weight"]!.values[0]
        #expect(gain > 0.01 && gain < 0.05, "γ = B's per-element spread (uniform ±0.05 → ≈0.029)")
        let y = ln(a, rows: n)
        let meanOut = y.reduce(0, +) / Float(y.count)
        #expect(abs(meanOut - 0.2) < 0.02, "outputs centre on B's mean")
        #expect(throws: AgentError.self) {
            try BridgeInitialization.apply(map: map, source: a, target: b, rows: n,
                                           to: OuterLink(kind: .adapter, inputWidth: ds, outputWidth: dt, seed: 3))
        }
    }

    @Test("a tiny graph's links are bridge-initialised from pairs its edges name")
    func system() throws {
        let system = try TinyGraph.sequential()
        let before = system.outerParameters.map(\.values)
        let fits = try system.bridgeInitialize(rows: SyntheticArithmetic(seed: 9).generate(count: 12).map(DataRow.init), threads: 1)
        #expect(Set(fits.keys) == ["planner_to_refiner", "refiner_to_solver", "solver_to_planner"])
        #expect(fits.values.allSatisfy { $0.pairs == 12 && $0.relativeResidual.isFinite && $0.relativeResidual < 1 })
        #expect(system.outerParameters.map(\.values) != before)
        #expect(throws: AgentError.self) { try system.bridgeInitialize(rows: SyntheticArithmetic(seed: 9).generate(count: 5).map(DataRow.init)) }
    }
}
