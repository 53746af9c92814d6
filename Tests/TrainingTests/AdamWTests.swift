import Foundation
import Kernels
import Testing

@testable import Training

/// Textbook AdamW in Double, written from the paper's formulas rather than torch's operation
/// order: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), p ← p(1 − αλ) − α·m̂/(√v̂ + ε).
private struct ReferenceAdamW {
    var configuration: AdamW.Configuration
    var m: [[Double]]
    var v: [[Double]]
    var t = 0

    init(counts: [Int], configuration: AdamW.Configuration) {
        self.configuration = configuration
        m = counts.map { [Double](repeating: 0, count: $0) }
        v = m
    }

    mutating func step(_ values: inout [[Double]], gradients: [[Float]], decays: [Bool], learningRate lr: Double) {
        t += 1
        let (b1, b2, eps) = (configuration.beta1, configuration.beta2, configuration.epsilon)
        for k in values.indices {
            let lambda = decays[k] ? configuration.weightDecay : 0
            for i in values[k].indices {
                let g = Double(gradients[k][i])
                m[k][i] = b1 * m[k][i] + (1 - b1) * g
                v[k][i] = b2 * v[k][i] + (1 - b2) * g * g
                let mHat = m[k][i] / (1 - pow(b1, Double(t)))
                let vHat = v[k][i] / (1 - pow(b2, Double(t)))
                values[k][i] = values[k][i] * (1 - lr * lambda) - lr * mHat / (vHat.squareRoot() + eps)
            }
        }
    }
}

/// Random gradients of several magnitudes, from the project RNG.
private func randomGradients(_ parameters: ParameterSet, using generator: inout SplitMix64) {
    for parameter in parameters {
        for i in 0..<parameter.count {
            parameter.gradient[i] = generator.nextGaussian() * (i % 3 == 0 ? 1e-3 : 0.5)
        }
    }
}

/// Parameters whose counts straddle the 16-lane vector width (1, 15, 16, 17, 33), two that decay.
private func oddSizedParameters(using generator: inout SplitMix64) throws -> ParameterSet {
    try ParameterSet([
        Parameter.normal(name: "w33", shape: [3, 11], standardDeviation: 0.5, using: &generator),
        Parameter.normal(name: "b1", shape: [1], standardDeviation: 0.5, using: &generator),
        Parameter.normal(name: "w16", shape: [4, 4], standardDeviation: 0.5, using: &generator),
        Parameter.normal(name: "g15", shape: [15], standardDeviation: 0.5, using: &generator),
        Parameter.normal(name: "b17", shape: [17], standardDeviation: 0.5, using: &generator),
    ])
}

@Suite("AdamW")
struct AdamWTests {
    @Test("one step by hand: decoupled decay for weights, none for biases")
    func oneStepByHand() throws {
        // g = 0.5, α = 0.1, λ = 0.1: m̂ = 0.5, v̂ = 0.25, so the Adam step is 0.1·0.5/(0.5 + 1e-8).
        // Decoupled: 2·(1 − 0.01) − 0.1 = 1.88. (L2-coupled Adam would give 2 − 0.1 = 1.9.)
        let weight = Parameter(name: "w", shape: [1, 1], values: [2])
        let bias = Parameter(name: "b", shape: [1], values: [2])
        let parameters = try ParameterSet([weight, bias])
        weight.gradient = [0.5]
        bias.gradient = [0.5]
        var optimizer = AdamW(parameters: parameters, configuration: .init(weightDecay: 0.1))
        try optimizer.step(parameters, learningRate: 0.1)
        let adamStep = 0.1 * 0.5 / (0.5 + 1e-8)
        #expect(abs(Double(weight.values[0]) - (2 * 0.99 - adamStep)) < 1e-6)
        #expect(abs(Double(bias.values[0]) - (2 - adamStep)) < 1e-6)
        #expect(optimizer.state.step == 1)
        #expect(optimizer.state.moments[0].first == [Float(0.1) * 0.5])
    }

    @Test("the SIMD update matches textbook AdamW in Double over 25 steps, at every lane position")
    func matchesReference() throws {
        var generator = SplitMix64(seed: 7)
        let parameters = try oddSizedParameters(using: &generator)
        let configuration = AdamW.Configuration(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)
        var optimizer = AdamW(parameters: parameters, configuration: configuration)
        var reference = ReferenceAdamW(counts: parameters.map(\.count), configuration: configuration)
        var referenceValues = parameters.map { $0.values.map(Double.init) }
        var worst = 0.0
        for step in 0..<25 {
            randomGradients(parameters, using: &generator)
            let learningRate = 1e-2 * Double(step + 1) / 25
            reference.step(
                &referenceValues, gradients: parameters.map(\.gradient), decays: parameters.map(\.decays),
                learningRate: learningRate)
            try optimizer.step(parameters, learningRate: learningRate)
            for (parameter, expected) in zip(parameters, referenceValues) {
                for (a, e) in zip(parameter.values, expected) {
                    worst = max(worst, abs(Double(a) - e) / max(abs(e), 1e-3))
                }
            }
        }
        // Float rounding of values, moments and the update over 25 steps: a few ulps (1e-7 each).
        #expect(worst < 2e-6, "worst relative deviation from the Double reference: \(worst)")
    }

    @Test("an element's result does not depend on its position (vector body vs zero-padded tail)")
    func positionIndependent() throws {
        // The same 16 (value, gradient) pairs placed at 0..<16 of one parameter and at 17..<33 of
        // another (17..<32 in the vector body, 32 in the tail) must update to the same bits.
        var generator = SplitMix64(seed: 11)
        let source = (0..<16).map { _ in (generator.nextGaussian(), generator.nextGaussian()) }
        let a = Parameter(name: "a", shape: [16], values: source.map(\.0))
        let b = Parameter(name: "b", shape: [33], repeating: 0.25)
        a.gradient = source.map(\.1)
        for (i, pair) in source.enumerated() {
            b.values[17 + i] = pair.0
            b.gradient[17 + i] = pair.1
        }
        let parameters = try ParameterSet([a, b])
        var optimizer = AdamW(parameters: parameters)
        for _ in 0..<3 { try optimizer.step(parameters, learningRate: 1e-2) }
        #expect(a.values.map(\.bitPattern) == b.values[17..<33].map(\.bitPattern))
    }

    @Test("learning rate 0 leaves values unchanged but advances the moments and step count")
    func zeroLearningRate() throws {
        let parameters = try ParameterSet([Parameter(name: "w", shape: [2, 2], values: [1, -2, 3, -4])])
        parameters[0].gradient = [0.5, 0.5, -0.5, 1]
        var optimizer = AdamW(parameters: parameters, configuration: .init(weightDecay: 0.1))
        try optimizer.step(parameters, learningRate: 0)
        #expect(parameters[0].values == [1, -2, 3, -4])
        #expect(optimizer.state.step == 1)
        #expect(optimizer.state.moments[0].second.allSatisfy { $0 > 0 })
    }

    @Test("a non-finite gradient throws, naming the first bad parameter, and changes nothing")
    func nonFiniteGradient() throws {
        var generator = SplitMix64(seed: 3)
        let parameters = try oddSizedParameters(using: &generator)
        var optimizer = AdamW(parameters: parameters)
        randomGradients(parameters, using: &generator)
        try optimizer.step(parameters, learningRate: 1e-2)
        randomGradients(parameters, using: &generator)
        for bad in [Float.nan, .infinity, -.infinity] {
            parameters[3].gradient[14] = bad  // g15, the last element (the tail)
            parameters[4].gradient[0] = bad  // b17, later in set order
            let values = parameters.map(\.values), state = optimizer.state
            #expect(throws: TrainingError.nonFiniteGradient(parameter: "g15")) {
                try optimizer.step(parameters, learningRate: 1e-2)
            }
            #expect(parameters.map(\.values) == values)
            #expect(optimizer.state == state)
        }
    }

    @Test("export → JSON → import mid-run continues bit-identically")
    func resumeIsBitIdentical() throws {
        var generator = SplitMix64(seed: 5)
        let original = try oddSizedParameters(using: &generator)
        let schedule = WarmupCosineSchedule(peak: 1e-2, warmupSteps: 3, totalSteps: 12)
        var optimizer = AdamW(parameters: original)
        var gradientStream = SplitMix64(seed: 99)
        var gradients: [[[Float]]] = []  // per step, per parameter: replayed identically after resuming
        for _ in 0..<12 {
            randomGradients(original, using: &gradientStream)
            gradients.append(original.map(\.gradient))
        }
        for k in 0..<5 {
            for (parameter, gradient) in zip(original, gradients[k]) { parameter.gradient = gradient }
            try optimizer.step(original, learningRate: schedule.learningRate(at: k))
        }
        // The checkpoint: values and optimizer state, through JSON.
        let saved = try JSONEncoder().encode(optimizer.state)
        let resumed = try ParameterSet(original.map { Parameter(name: $0.name, shape: $0.shape, values: $0.values) })
        var resumedOptimizer = AdamW(parameters: resumed)
        try resumedOptimizer.restore(JSONDecoder().decode(AdamWState.self, from: saved))
        #expect(resumedOptimizer.state == optimizer.state)
        for k in 5..<12 {
            for run in [original, resumed] {
                for (parameter, gradient) in zip(run, gradients[k]) { parameter.gradient = gradient }
            }
            try optimizer.step(original, learningRate: schedule.learningRate(at: k))
            try resumedOptimizer.step(resumed, learningRate: schedule.learningRate(at: k))
        }
        for (a, b) in zip(original, resumed) { #expect(a.values.map(\.bitPattern) == b.values.map(\.bitPattern)) }
        #expect(resumedOptimizer.state == optimizer.state)
        #expect(optimizer.state.step == 12)
    }

    @Test("restore matches moments by name, in any order")
    func restoreByName() throws {
        let parameters = try ParameterSet([
            Parameter(name: "a", shape: [2], values: [1, 2]), Parameter(name: "b", shape: [1], values: [3]),
        ])
        var optimizer = AdamW(parameters: parameters)
        let state = AdamWState(step: 4, moments: [
            .init(name: "b", first: [0.5], second: [0.25]),
            .init(name: "a", first: [1, 2], second: [3, 4]),
        ])
        try optimizer.restore(state)
        #expect(optimizer.state.step == 4)
        #expect(optimizer.state.moments.map(\.name) == ["a", "b"])
        #expect(optimizer.state.moments[0].second == [3, 4])
    }

    @Test(
        "restore rejects state that does not fit, and leaves the optimizer unchanged",
        arguments: [
            ("missing", AdamWState(step: 1, moments: [.init(name: "a", first: [0, 0], second: [0, 0])]), "b"),
            ("wrong count", AdamWState(step: 1, moments: [
                .init(name: "a", first: [0], second: [0]), .init(name: "b", first: [0], second: [0]),
            ]), "a"),
            ("extra", AdamWState(step: 1, moments: [
                .init(name: "a", first: [0, 0], second: [0, 0]), .init(name: "b", first: [0], second: [0]),
                .init(name: "c", first: [0], second: [0]),
            ]), "c"),
            ("negative v", AdamWState(step: 1, moments: [
                .init(name: "a", first: [0, 0], second: [0, -1]), .init(name: "b", first: [0], second: [0]),
            ]), "a"),
            ("duplicate", AdamWState(step: 1, moments: [
                .init(name: "a", first: [0, 0], second: [0, 0]), .init(name: "a", first: [0, 0], second: [0, 0]),
            ]), "a"),
        ])
    func restoreRejects(label: String, state: AdamWState, parameter: String) throws {
        let parameters = try ParameterSet([
            Parameter(name: "a", shape: [2], values: [1, 2]), Parameter(name: "b", shape: [1], values: [3]),
        ])
        var optimizer = AdamW(parameters: parameters)
        parameters[0].gradient = [1, 1]
        try optimizer.step(parameters, learningRate: 1e-3)
        let before = optimizer.state
        do {
            try optimizer.restore(state)
            Issue.record("\(label): restore accepted a mismatching state")
        } catch {
            guard case .stateMismatch(let named, _) = error else {
                Issue.record("\(label): unexpected \(error)")
                return
            }
            #expect(named == parameter, "\(label)")
        }
        #expect(optimizer.state == before)
    }
}
