import Foundation
import Models
import TestSupport
import Testing
import Training

/// `GradientCheck` (what `rmas gradcheck` runs) on tiny models and on the three real models.
@Suite("Gradient check", .serialized)
struct GradientCheckTests {
    /// Float32 differences: measured up to ~1e-3 here; the tight check of the same backward is
    /// against Float64 and PyTorch (ModelsTests). 1e-2 still catches any real error (a wrong
    /// term moves the derivative by tens of percent).
    @Test("tiny models pass", arguments: [Architecture.llama, .qwen2, .gemma3])
    func tiny(_ architecture: Architecture) throws {
        let model = try TinyModel(architecture).transformer()
        let results = GradientCheck(transformer: model, tokens: (0..<21).map { Int32($0 * 13 % 250 + 3) }).run(directions: 3)
        for r in results { #expect(r.errorBeyondNoise < 1e-2, "\(architecture): \(r)") }
    }

    /// Float32 finite differences on real models: noise ~1e-5 absolute in the loss over a 12·ε
    /// stencil, measured 1e-6 … 8.6e-3 relative; 1e-2 is the CLI's default tolerance, applied
    /// beyond twice the measured spread of the finite difference between steps ε and 2ε.
    @Test("real models pass", arguments: ["smollm2-135m", "qwen2.5-0.5b", "gemma3-270m"])
    func real(_ name: String) throws {
        try #require(RealModels.available(name), "model \(name) not present")
        let model = try LanguageModel.load(path: try RealModels.require(name))
        let tokens = model.tokenizer.encode("The planner writes a plan; the critic refines it; the solver computes 17 × 23 = 391.", addBOS: false)
        let results = GradientCheck(transformer: model.transformer, tokens: Array(tokens.prefix(32))).run(directions: 2)
        for r in results {
            #expect(r.errorBeyondNoise < 1e-2, "\(name): \(r)")
            #expect(r.numericSpread < 0.1 * abs(r.numeric), "\(name): the finite difference itself is reliable (\(r))")
        }
        print("[gradcheck] \(name): relative errors \(results.map(\.relativeError))")
    }

    /// bfloat16 products (`train outer --matmul bfloat16`) against fp32 finite differences, judged
    /// as `rmas gradcheck --matmul bfloat16` judges it: |analytic − numeric| / rms(numeric). Measured
    /// on Zen 4, 8 directions on 48 positions: Qwen2.5 ≤ 2.1e-2, SmolLM2 ≤ 2.5e-2, Gemma-3 ≤ 1.0e-1
    /// (its larger activations); 4 directions on 32 positions: 4.1e-2, 6.1e-2, 1.2e-1. The bounds
    /// leave room for other directions and still fail a wrong product (order one); fp32 gives
    /// ~1e-4. Without AVX512-BF16 the products stay fp32 and the errors are fp32's.
    @Test("real models' bfloat16 gradients stay near the exact derivative",
          arguments: [("smollm2-135m", 0.1), ("qwen2.5-0.5b", 0.1), ("gemma3-270m", 0.25)])
    func realBFloat16(_ name: String, tolerance: Double) throws {
        try #require(RealModels.available(name), "model \(name) not present")
        let model = try LanguageModel.load(path: try RealModels.require(name))
        let tokens = model.tokenizer.encode("The planner writes a plan; the critic refines it; the solver computes 17 × 23 = 391.", addBOS: false)
        var check = GradientCheck(transformer: model.transformer, tokens: Array(tokens.prefix(32)))
        check.precision = .bfloat16
        let results = check.run(directions: 4)
        let errors = GradientCheck.errorsOfRMS(results)
        print("[gradcheck bf16] \(name): errors of rms \(errors)")
        #expect(errors.allSatisfy { $0 < tolerance }, "\(name): \(results)")
    }
}
