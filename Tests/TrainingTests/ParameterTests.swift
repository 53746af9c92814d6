import Kernels
import Testing

@testable import Training

@Suite("Parameter and ParameterSet")
struct ParameterTests {
    @Test("the decay group defaults to weights (≥ 2-D) and can be overridden")
    func decayGroupDefault() {
        #expect(Parameter(name: "w", shape: [4, 6], repeating: 0).decays)
        #expect(Parameter(name: "k", shape: [2, 3, 4], repeating: 0).decays)
        #expect(!Parameter(name: "b", shape: [4], repeating: 0).decays)
        #expect(!Parameter(name: "s", shape: [], repeating: 0).decays)
        #expect(!Parameter(name: "w", shape: [4, 6], repeating: 0, decays: false).decays)
        #expect(Parameter(name: "b", shape: [4], repeating: 0, decays: true).decays)
    }

    @Test("count is the product of the shape; the gradient starts at zero and can be zeroed")
    func countsAndZeroing() {
        let p = Parameter(name: "w", shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        #expect(p.count == 6 && p.gradient == [0, 0, 0, 0, 0, 0])
        #expect(Parameter(name: "s", shape: [], repeating: 7).values == [7])
        p.gradient[4] = 2
        p.zeroGradient()
        #expect(p.gradient == [0, 0, 0, 0, 0, 0])
        #expect(p.values == [1, 2, 3, 4, 5, 6])
    }

    @Test("a set keeps insertion order, finds by name and counts scalars")
    func setLookup() throws {
        let w = Parameter(name: "w", shape: [3, 2], repeating: 1)
        let b = Parameter(name: "b", shape: [3], repeating: 0)
        var set = try ParameterSet([w, b])
        try set.append(Parameter(name: "gain", shape: [2], repeating: 1))
        #expect(set.map(\.name) == ["w", "b", "gain"])
        #expect(set[name: "b"] === b)
        #expect(set[name: "missing"] == nil)
        #expect(set.index(named: "gain") == 2)
        #expect(set.scalarCount == 11)
        w.gradient = [1, 2, 3, 4, 5, 6]
        b.gradient = [1, 1, 1]
        set.zeroGradients()
        #expect(set.allSatisfy { $0.gradient.allSatisfy { $0 == 0 } })
    }

    @Test("duplicate names are rejected with the name")
    func duplicateNames() throws {
        #expect(throws: TrainingError.duplicateParameterName("w")) {
            try ParameterSet([
                Parameter(name: "w", shape: [1], repeating: 0), Parameter(name: "w", shape: [2], repeating: 0),
            ])
        }
        var set = try ParameterSet([Parameter(name: "a", shape: [1], repeating: 0)])
        #expect(throws: TrainingError.duplicateParameterName("a")) {
            try set.append(Parameter(name: "a", shape: [1], repeating: 0))
        }
        #expect(set.count == 1)
    }

    @Test("seeded initialisation is reproducible and has the requested distribution")
    func seededInitialisation() {
        var g1 = SplitMix64(seed: 42), g2 = SplitMix64(seed: 42), g3 = SplitMix64(seed: 43)
        let a = Parameter.normal(name: "a", shape: [100, 100], standardDeviation: 0.02, using: &g1)
        let b = Parameter.normal(name: "a", shape: [100, 100], standardDeviation: 0.02, using: &g2)
        let c = Parameter.normal(name: "a", shape: [100, 100], standardDeviation: 0.02, using: &g3)
        #expect(a.values == b.values)
        #expect(a.values != c.values)
        let mean = a.values.reduce(0.0) { $0 + Double($1) } / 10_000
        let std = (a.values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / 10_000).squareRoot()
        #expect(abs(mean) < 0.001 && abs(std - 0.02) < 0.001, "mean \(mean), std \(std)")

        let u = Parameter.uniform(name: "u", shape: [64, 32], bound: 0.125, using: &g1)
        #expect(u.values.allSatisfy { abs($0) <= 0.125 })
        #expect(u.values.min()! < -0.12 && u.values.max()! > 0.12)
        #expect(u.decays)
    }
}
