import Kernels
import Testing

@testable import Training

/// Two parameters with gradients (3) and (4, 0): global norm 5.
private func threeFourFive() throws -> ParameterSet {
    let a = Parameter(name: "a", shape: [1], repeating: 1)
    let b = Parameter(name: "b", shape: [2], repeating: 1)
    a.gradient = [3]
    b.gradient = [4, 0]
    return try ParameterSet([a, b])
}

@Suite("Gradient clipping")
struct GradientClippingTests {
    @Test("a norm above maxNorm scales every gradient by maxNorm / (norm + 1e-6)")
    func clipsAboveMax() throws {
        let parameters = try threeFourFive()
        let norm = try GradientClipping.clipGlobalNorm(parameters, maxNorm: 1)
        #expect(norm == 5)
        let coefficient = 1 / (5 + 1e-6)
        #expect(abs(Double(parameters[0].gradient[0]) - 3 * coefficient) < 1e-7)
        #expect(abs(Double(parameters[1].gradient[0]) - 4 * coefficient) < 1e-7)
        #expect(parameters[1].gradient[1] == 0)
        #expect(abs(Double(try GradientClipping.globalNorm(parameters)) - 1) < 1e-6)
    }

    @Test("a norm below maxNorm leaves the gradients bit-identical")
    func keepsBelowMax() throws {
        let parameters = try threeFourFive()
        #expect(try GradientClipping.clipGlobalNorm(parameters, maxNorm: 10) == 5)
        #expect(parameters[0].gradient == [3] && parameters[1].gradient == [4, 0])
    }

    @Test("a norm equal to maxNorm is still scaled, by 1/(1 + 1e-6/maxNorm), as torch does")
    func equalToMaxIsScaled() throws {
        let parameters = try threeFourFive()
        try GradientClipping.clipGlobalNorm(parameters, maxNorm: 5)
        #expect(parameters[0].gradient[0] < 3 && parameters[0].gradient[0] > 3 * (1 - 1e-6))
    }

    @Test("the norm over many elements equals a plain Double sum to Float rounding")
    func normOfManyElements() throws {
        var generator = SplitMix64(seed: 1)
        let parameters = try ParameterSet([
            Parameter.normal(name: "w", shape: [37, 29], standardDeviation: 1, using: &generator),
            Parameter.normal(name: "b", shape: [7], standardDeviation: 1, using: &generator),
        ])
        var sum = 0.0
        for parameter in parameters {
            for i in 0..<parameter.count {
                parameter.gradient[i] = generator.nextGaussian()
                sum += Double(parameter.gradient[i]) * Double(parameter.gradient[i])
            }
        }
        #expect(try GradientClipping.globalNorm(parameters) == Float(sum.squareRoot()))
    }

    @Test("an empty set has norm 0")
    func emptySet() throws {
        #expect(try GradientClipping.clipGlobalNorm(ParameterSet(), maxNorm: 1) == 0)
    }

    @Test(
        "a NaN or infinity throws, naming the first bad parameter, and modifies nothing",
        arguments: [Float.nan, .infinity, -.infinity])
    func nonFinite(bad: Float) throws {
        var generator = SplitMix64(seed: 2)
        let parameters = try ParameterSet([
            Parameter.normal(name: "first", shape: [20], standardDeviation: 1, using: &generator),
            Parameter.normal(name: "second", shape: [3, 7], standardDeviation: 1, using: &generator),
            Parameter.normal(name: "third", shape: [5], standardDeviation: 1, using: &generator),
        ])
        for parameter in parameters {
            for i in 0..<parameter.count { parameter.gradient[i] = 10 * generator.nextGaussian() }
        }
        parameters[1].gradient[20] = bad
        parameters[2].gradient[0] = bad
        let before = parameters.map(\.gradient)
        #expect(throws: TrainingError.nonFiniteGradient(parameter: "second")) {
            try GradientClipping.clipGlobalNorm(parameters, maxNorm: 1)
        }
        #expect(parameters.map { $0.gradient.map(\.bitPattern) } == before.map { $0.map(\.bitPattern) })
    }
}
