// Golden: Fixtures/adamw-torch.json, made by Tools/golden/make_adamw_golden.py (torch 2.13.0+cpu,
// transformers 5.23.0): 30 steps of clip_grad_norm_ + AdamW + warmup-cosine on a linear model.
import Foundation
import Training

/// The decoded golden file. Every float32 value is stored as the decimal of the Double equal to
/// it, so decoding as Double and converting to Float is exact.
struct AdamWGolden: Decodable, Sendable {
    struct Config: Decodable, Sendable {
        let peakLr: Double
        let warmupSteps: Int
        let totalSteps: Int
        let cycles: Double
        let beta1: Double
        let beta2: Double
        let epsilon: Double
        let weightDecay: Double
        let maxNorm: Double
    }

    /// One batch: `x [batchSize × inputs]`, `y [batchSize × outputs]`, row-major.
    struct Batch: Decodable, Sendable {
        let x: [Double]
        let y: [Double]
    }

    /// What torch did at optimizer step `step` (0-based), on batch `batch`.
    struct Step: Decodable, Sendable {
        let step: Int
        let batch: Int
        /// The learning rate this step used (a Python float).
        let lr: Double
        let loss: Double
        /// clip_grad_norm_'s return value: the global norm before clipping.
        let gradNorm: Double
        let clipped: Bool
        /// ∂loss/∂W `[outputs × inputs]` and ∂loss/∂b `[outputs]` before clipping.
        let weightGrad: [Double]
        let biasGrad: [Double]
        /// W and b after the step.
        let weight: [Double]
        let bias: [Double]
    }

    /// transformers' learning rates for steps 0..<learningRates.count under one setting.
    struct ScheduleCheck: Decodable, Sendable {
        let peak: Double
        let warmupSteps: Int
        let totalSteps: Int
        let cycles: Double
        let learningRates: [Double]
    }

    let config: Config
    let inputs: Int
    let outputs: Int
    let batchSize: Int
    let initialWeight: [Double]
    let initialBias: [Double]
    let batches: [Batch]
    let steps: [Step]
    let scheduleChecks: [ScheduleCheck]

    static func load() throws -> AdamWGolden {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/adamw-torch.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(AdamWGolden.self, from: Data(contentsOf: url))
    }

    var schedule: WarmupCosineSchedule {
        WarmupCosineSchedule(
            peak: config.peakLr, warmupSteps: config.warmupSteps, totalSteps: config.totalSteps,
            cycles: config.cycles)
    }

    var adamWConfiguration: AdamW.Configuration {
        AdamW.Configuration(
            beta1: config.beta1, beta2: config.beta2, epsilon: config.epsilon, weightDecay: config.weightDecay)
    }

    /// Fresh `W [outputs × inputs]` (decays by shape) and `b [outputs]` (does not) at the stored
    /// initial values, as a set in the order W, b.
    func initialParameters() throws -> ParameterSet {
        try ParameterSet([
            Parameter(name: "weight", shape: [outputs, inputs], values: initialWeight.map(Float.init)),
            Parameter(name: "bias", shape: [outputs], values: initialBias.map(Float.init)),
        ])
    }

    /// Writes ∂loss/∂W and ∂loss/∂b of loss = ½·mean_n ‖W xₙ + b − yₙ‖² on `batch` into the
    /// gradients of `parameters` (W, b), overwriting them, and returns the loss. Accumulates in
    /// Double and rounds each gradient element to Float once.
    func lossAndGradients(_ parameters: ParameterSet, batch: Batch) -> Double {
        let weight = parameters[0], bias = parameters[1]
        var residual = [Double](repeating: 0, count: batchSize * outputs)  // [batchSize × outputs]
        var loss = 0.0
        for n in 0..<batchSize {
            for o in 0..<outputs {
                var r = Double(bias.values[o]) - batch.y[n * outputs + o]
                for i in 0..<inputs { r += Double(weight.values[o * inputs + i]) * batch.x[n * inputs + i] }
                residual[n * outputs + o] = r
                loss += r * r
            }
        }
        let scale = 1 / Double(batchSize)
        for o in 0..<outputs {
            var db = 0.0
            for n in 0..<batchSize { db += residual[n * outputs + o] }
            bias.gradient[o] = Float(db * scale)
            for i in 0..<inputs {
                var dw = 0.0
                for n in 0..<batchSize { dw += residual[n * outputs + o] * batch.x[n * inputs + i] }
                weight.gradient[o * inputs + i] = Float(dw * scale)
            }
        }
        return 0.5 * loss * scale
    }

    /// The magnitude of the terms behind each gradient element: with Rₙₒ = Σᵢ |Wₒᵢ xₙᵢ| + |bₒ| +
    /// |yₙₒ| (the terms of the residual rₙₒ), (1/B)·Σₙ Rₙₒ·|xₙᵢ| for W and (1/B)·Σₙ Rₙₒ for b.
    /// A Float-accumulated gradient's rounding error is a few ulps of this, which cancellation can
    /// leave far above the element itself.
    func gradientTermMagnitudes(_ parameters: ParameterSet, batch: Batch) -> (weight: [Double], bias: [Double]) {
        let weight = parameters[0], bias = parameters[1]
        var weightScale = [Double](repeating: 0, count: outputs * inputs)
        var biasScale = [Double](repeating: 0, count: outputs)
        for n in 0..<batchSize {
            for o in 0..<outputs {
                var terms = abs(Double(bias.values[o])) + abs(batch.y[n * outputs + o])
                for i in 0..<inputs { terms += abs(Double(weight.values[o * inputs + i]) * batch.x[n * inputs + i]) }
                biasScale[o] += terms / Double(batchSize)
                for i in 0..<inputs {
                    weightScale[o * inputs + i] += terms * abs(batch.x[n * inputs + i]) / Double(batchSize)
                }
            }
        }
        return (weightScale, biasScale)
    }
}

/// The largest |actual − expected| and the largest ratio of it to the tolerance
/// `relative·|expected| + absolute` (so `worstRatio ≤ 1` means within tolerance), with the first
/// offending index for failure messages.
struct Deviation: CustomStringConvertible {
    var maxAbsolute = 0.0
    var worstRatio = 0.0
    var worstIndex = -1

    mutating func record(_ actual: [Float], _ expected: [Double], relative: Double, absolute: Double) {
        precondition(actual.count == expected.count)
        for (index, (a, e)) in zip(actual, expected).enumerated() {
            let difference = abs(Double(a) - e)
            maxAbsolute = max(maxAbsolute, difference)
            let ratio = difference / (relative * abs(e) + absolute)
            if !(ratio <= worstRatio) {  // also catches NaN
                worstRatio = ratio
                worstIndex = index
            }
        }
    }

    /// Records with a per-element absolute tolerance `tolerance[i]`.
    mutating func record(_ actual: [Float], _ expected: [Double], tolerance: [Double]) {
        precondition(actual.count == expected.count && tolerance.count == expected.count)
        for index in actual.indices {
            let difference = abs(Double(actual[index]) - expected[index])
            maxAbsolute = max(maxAbsolute, difference)
            let ratio = difference / tolerance[index]
            if !(ratio <= worstRatio) {
                worstRatio = ratio
                worstIndex = index
            }
        }
    }

    var description: String {
        "max |Δ| = \(maxAbsolute), worst Δ/tolerance = \(worstRatio) at index \(worstIndex)"
    }
}
