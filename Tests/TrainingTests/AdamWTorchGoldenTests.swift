// Golden: Fixtures/adamw-torch.json (Tools/golden/make_adamw_golden.py, torch 2.13.0+cpu).
import Foundation
import Testing

@testable import Training

/// End to end (our own Double-accumulated gradients), parameters after each step vs torch.
/// Fed torch's own gradients the optimizer matches bit for bit (tested below), so what remains
/// comes from gradients that differ from torch's Float-accumulated ones in the last bit. Adam
/// divides m by √v, which carries such relative noise through without amplifying it; measured
/// max |Δ| = 7.5e-9 on parameters of magnitude 0.02–0.7 (worst ratio 0.36 to this tolerance).
/// 2e-7 relative + 2e-8 absolute is a few ulps, while the golden's updates range from ~1e-3
/// (peak lr 5e-3) to ~1e-5 (last step, lr 1.7e-5), so a wrong bias correction, decay rule,
/// schedule step or clipping decision fails it (each was tried: all fail).
private let parameterRelativeTolerance = 2e-7
private let parameterAbsoluteTolerance = 2e-8
/// Gradients: ours accumulate in Double, torch's in Float, so an element can differ by a few ulps
/// of the terms it sums rather than of itself (cancellation across the batch). The tolerance is
/// 1e-6 (~17 Float ulps) × that term magnitude (`gradientTermMagnitudes`), plus 1e-12.
private let gradientToleranceFactor = 1e-6

@Suite("AdamW vs PyTorch golden")
struct AdamWTorchGoldenTests {
    let golden: AdamWGolden

    init() throws { golden = try AdamWGolden.load() }

    @Test("the golden exercises both clipping branches")
    func goldenCoversClipping() {
        let clipped = golden.steps.filter(\.clipped).count
        #expect(clipped > 0 && clipped < golden.steps.count)
        #expect(golden.steps.count == golden.config.totalSteps)
    }

    @Test("our gradients and loss at torch's parameters match torch's")
    func gradientsMatch() throws {
        let parameters = try golden.initialParameters()
        var deviation = Deviation()
        for step in golden.steps {
            let loss = golden.lossAndGradients(parameters, batch: golden.batches[step.batch])
            #expect(abs(loss - step.loss) <= 1e-6 * step.loss, "step \(step.step): loss \(loss) vs \(step.loss)")
            let scale = golden.gradientTermMagnitudes(parameters, batch: golden.batches[step.batch])
            let tolerance = { (terms: [Double]) in terms.map { gradientToleranceFactor * $0 + 1e-12 } }
            deviation.record(parameters[0].gradient, step.weightGrad, tolerance: tolerance(scale.weight))
            deviation.record(parameters[1].gradient, step.biasGrad, tolerance: tolerance(scale.bias))
            // Continue from torch's parameters after this step.
            parameters[0].values = step.weight.map(Float.init)
            parameters[1].values = step.bias.map(Float.init)
        }
        #expect(deviation.worstRatio <= 1, "gradients: \(deviation)")
    }

    /// Pins our operation order to torch's (see ``AdamW``): any reordering, a missing fused
    /// multiply-add or a scalar rounded differently shows up as a bit mismatch. The pre-clip norm
    /// is compared to ~1 ulp only: ours accumulates in Double, torch's in Float, and on clipped
    /// steps 3, 21 and 24 of this golden they differ in the last bit; the clip coefficient and
    /// Adam's m/√v (invariant to a common gradient scale up to rounding) absorb that here. A
    /// regenerated golden could expose it as a one-ulp parameter mismatch; the end-to-end test
    /// below covers that regime with a tolerance.
    @Test("fed torch's gradients, clipping + AdamW + schedule reproduce torch's parameters bit for bit")
    func optimizerFromTorchGradients() throws {
        let parameters = try golden.initialParameters()
        var optimizer = AdamW(parameters: parameters, configuration: golden.adamWConfiguration)
        var mismatches: [String] = []
        for step in golden.steps {
            let torchGradients = (step.weightGrad.map(Float.init), step.biasGrad.map(Float.init))
            parameters[0].gradient = torchGradients.0
            parameters[1].gradient = torchGradients.1
            let norm = try GradientClipping.clipGlobalNorm(parameters, maxNorm: golden.config.maxNorm)
            #expect(abs(Double(norm) - step.gradNorm) <= 2e-7 * step.gradNorm, "step \(step.step)")
            #expect((parameters[0].gradient != torchGradients.0) == step.clipped, "step \(step.step)")
            let learningRate = golden.schedule.learningRate(at: step.step)
            #expect(learningRate == step.lr, "step \(step.step): lr \(learningRate) vs torch \(step.lr)")
            try optimizer.step(parameters, learningRate: learningRate)
            let expected = step.weight.map(Float.init) + step.bias.map(Float.init)
            let actual = parameters[0].values + parameters[1].values
            for (index, (a, e)) in zip(actual, expected).enumerated() where a.bitPattern != e.bitPattern {
                mismatches.append("step \(step.step) element \(index): \(a) vs torch \(e)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
        #expect(optimizer.state.step == golden.steps.count)
    }

    @Test("end to end with our own gradients, every step's loss, norm, lr and parameters match torch")
    func endToEnd() throws {
        let parameters = try golden.initialParameters()
        var optimizer = AdamW(parameters: parameters, configuration: golden.adamWConfiguration)
        var deviation = Deviation()
        for step in golden.steps {
            let loss = golden.lossAndGradients(parameters, batch: golden.batches[step.batch])
            #expect(abs(loss - step.loss) <= 1e-5 * step.loss, "step \(step.step): loss \(loss) vs \(step.loss)")
            let norm = try GradientClipping.clipGlobalNorm(parameters, maxNorm: golden.config.maxNorm)
            #expect(abs(Double(norm) - step.gradNorm) <= 1e-5 * step.gradNorm, "step \(step.step)")
            try optimizer.step(parameters, learningRate: golden.schedule.learningRate(at: step.step))
            deviation.record(
                parameters[0].values, step.weight, relative: parameterRelativeTolerance,
                absolute: parameterAbsoluteTolerance)
            deviation.record(
                parameters[1].values, step.bias, relative: parameterRelativeTolerance,
                absolute: parameterAbsoluteTolerance)
        }
        #expect(deviation.worstRatio <= 1, "parameters: \(deviation)")
    }

    @Test("the warmup-cosine schedule equals transformers' value for value")
    func scheduleMatchesTransformers() {
        for check in golden.scheduleChecks {
            let schedule = WarmupCosineSchedule(
                peak: check.peak, warmupSteps: check.warmupSteps, totalSteps: check.totalSteps,
                cycles: check.cycles)
            for (step, expected) in check.learningRates.enumerated() {
                #expect(schedule.learningRate(at: step) == expected, "\(schedule) at step \(step)")
            }
        }
    }
}
