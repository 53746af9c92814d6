import ArgumentParser
import Foundation
import Kernels
import Models
import Training

struct GradcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check the backward pass on a model: analytic vs finite-difference directional derivatives of a CE + cosine loss.")

    @OptionGroup var modelArguments: ModelArguments
    @Option(help: "Text whose tokens form the sequence (repeated up to --positions tokens).")
    var text = "The planner writes a short plan; the critic refines it; the solver computes 17 × 23 = 391."
    @Option(help: "Sequence length.", in: 2...65_536)
    var positions = 48
    @Option(help: "Random directions to check.", in: 1...10_000)
    var directions = 3
    @Option(help: "Largest relative error accepted (the finite differences run in Float32).", in: 1e-12...1e3)
    var tolerance = 1e-2
    @Option(help: "Random seed for directions and targets.", in: OptionRange.seed)
    var seed: UInt64 = 1
    @Option(help: "Worker threads.", in: OptionRange.threads)
    var threads = 2
    @Option(help: "The analytic gradient's matrix products: float32 or bfloat16 (as `train outer --matmul`; AVX512-BF16 only). The finite differences stay fp32, so bfloat16 measures the bf16 gradient's distance from the exact derivative: judged as max |analytic − numeric| / rms(numeric) over the directions.")
    var matmul = MatmulFormat.float32

    func run() throws {
        try matmul.check()
        let model = try LanguageModel.load(path: try modelArguments.resolvedPath())
        BLAS.setThreadCount(threads)
        let once = model.tokenizer.encode(text, addBOS: false)
        guard !once.isEmpty else { throw ValidationError("--text has no tokens") }
        let tokens = (0..<max(positions, 2)).map { once[$0 % once.count] }
        var check = GradientCheck(transformer: model.transformer, tokens: tokens)
        check.seed = seed
        check.precision = matmul.precision
        let clock = ContinuousClock(), start = clock.now
        let results = check.run(directions: directions)
        // An approximate (bfloat16) gradient is judged against the typical directional derivative
        // (GradientCheck.errorsOfRMS); fp32 keeps the per-direction judgement beyond the noise.
        let scaled = GradientCheck.errorsOfRMS(results)
        let approximate = matmul != .float32
        let worst = (approximate ? scaled : results.map(\.errorBeyondNoise)).max() ?? 0
        for (i, r) in results.enumerated() {
            print(String(format: "direction %d: analytic %+.6e  numeric %+.6e (±%.1e)  relative error %.2e, beyond noise %.2e, of rms %.2e", i,
                         r.analytic, r.numeric, r.numericSpread, r.relativeError, r.errorBeyondNoise, scaled[i]))
        }
        let judged = approximate ? "max |analytic − numeric| / rms(numeric) (bfloat16 gradient vs fp32 finite differences)"
                                 : "max relative error beyond the finite difference's noise"
        print(String(format: "%@ %.2e (tolerance %.1e) over %d directions, %d positions, %.1f s",
                     judged, worst, tolerance, results.count, tokens.count, (clock.now - start).seconds))
        if worst > tolerance { throw ExitCode(1) }
    }
}
