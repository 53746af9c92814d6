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

    func run() throws {
        let model = try LanguageModel.load(path: try modelArguments.resolvedPath())
        BLAS.setThreadCount(threads)
        let once = model.tokenizer.encode(text, addBOS: false)
        guard !once.isEmpty else { throw ValidationError("--text has no tokens") }
        let tokens = (0..<max(positions, 2)).map { once[$0 % once.count] }
        var check = GradientCheck(transformer: model.transformer, tokens: tokens)
        check.seed = seed
        let clock = ContinuousClock(), start = clock.now
        let results = check.run(directions: directions)
        let worst = results.map(\.errorBeyondNoise).max() ?? 0
        for (i, r) in results.enumerated() {
            print(String(format: "direction %d: analytic %+.6e  numeric %+.6e (±%.1e)  relative error %.2e, beyond noise %.2e", i,
                         r.analytic, r.numeric, r.numericSpread, r.relativeError, r.errorBeyondNoise))
        }
        print(String(format: "max relative error beyond the finite difference's noise %.2e (tolerance %.1e) over %d directions, %d positions, %.1f s",
                     worst, tolerance, results.count, tokens.count, (clock.now - start).seconds))
        if worst > tolerance { throw ExitCode(1) }
    }
}
