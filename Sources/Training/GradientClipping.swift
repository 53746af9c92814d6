// Provenance: torch.nn.utils.clip_grad_norm_ (torch 2.13, norm_type 2, error_if_nonfinite
// False): total = ‖(‖g₁‖, …, ‖gₙ‖)‖₂, coef = max_norm / (total + 1e-6), g ← g · min(coef, 1).

/// Global gradient-norm clipping over a ``ParameterSet``, as torch's `clip_grad_norm_`.
public enum GradientClipping {
    /// Scales all gradients together so that their global L2 norm is at most `maxNorm`, and
    /// returns the norm measured *before* scaling.
    ///
    /// The norm is √(Σ g²) over every element of every gradient, accumulated in Double and
    /// rounded to Float once. The coefficient is formed in Float exactly as torch does
    /// (`max_norm / tensor` is `tensor.reciprocal() * max_norm` there):
    /// `coef = (1 / (norm + 1e-6)) · maxNorm`. Gradients are multiplied by `coef` only when
    /// `coef < 1` (torch multiplies by `min(coef, 1)`, and multiplying by 1 changes nothing), so
    /// a norm of exactly `maxNorm` is still scaled, by 1/(1 + 1e-6/maxNorm).
    ///
    /// - Parameters:
    ///   - parameters: whose gradients are measured and scaled in place.
    ///   - maxNorm: the largest allowed global norm, > 0.
    /// - Returns: the pre-clip global norm (what torch returns and what training logs report).
    /// - Throws: ``TrainingError/nonFiniteGradient(parameter:)`` naming the first parameter, in
    ///   set order, whose gradient holds NaN or ±infinity. Nothing is modified in that case
    ///   (where torch, by default, would scale every gradient to NaN).
    @discardableResult
    public static func clipGlobalNorm(_ parameters: ParameterSet, maxNorm: Double) throws(TrainingError) -> Float {
        precondition(maxNorm > 0, "maxNorm must be positive, got \(maxNorm)")
        let norm = try globalNorm(parameters)
        let coefficient = (1 / (norm + Float(1e-6))) * Float(maxNorm)
        if coefficient < 1 {
            for parameter in parameters {
                parameter.gradient.withUnsafeMutableBufferPointer { gradient in
                    for i in gradient.indices { gradient[i] *= coefficient }
                }
            }
        }
        return norm
    }

    /// The global L2 norm √(Σ g²) of all gradients in `parameters` (0 for an empty set),
    /// accumulated in Double and rounded to Float.
    ///
    /// - Throws: ``TrainingError/nonFiniteGradient(parameter:)`` naming the first parameter whose
    ///   gradient holds NaN or ±infinity.
    public static func globalNorm(_ parameters: ParameterSet) throws(TrainingError) -> Float {
        var total = 0.0
        for parameter in parameters {
            // A square of a finite Float cannot overflow Double (≤ 1.2e77), so the partial sum is
            // finite exactly when this gradient is.
            let sum = parameter.gradient.withUnsafeBufferPointer { sumOfSquares($0) }
            guard sum.isFinite else { throw .nonFiniteGradient(parameter: parameter.name) }
            total += sum
        }
        return Float(total.squareRoot())
    }

    /// Σ x² in Double over eight interleaved lanes (a fixed order, so the result is reproducible).
    static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Double {
        var lanes = SIMD8<Double>()
        var i = 0
        if let base = x.baseAddress {
            while i + 8 <= x.count {
                let chunk = SIMD8<Double>(UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self))
                lanes = lanes.addingProduct(chunk, chunk)
                i += 8
            }
        }
        var sum = lanes.sum()
        while i < x.count {
            let value = Double(x[i])
            sum += value * value
            i += 1
        }
        return sum
    }
}

/// The first parameter (in set order) whose gradient holds NaN or ±infinity, or nil.
func firstNonFiniteGradient(in parameters: ParameterSet) -> Parameter? {
    parameters.first { parameter in
        parameter.gradient.withUnsafeBufferPointer { gradient in
            // x·0 is 0 for every finite x and NaN for NaN and ±infinity, so one NaN poisons the sum.
            var poison = SIMD16<Float>()
            var i = 0
            if let base = gradient.baseAddress {
                while i + 16 <= gradient.count {
                    poison += UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self) * 0
                    i += 16
                }
            }
            var tail: Float = 0
            while i < gradient.count {
                tail += gradient[i] * 0
                i += 1
            }
            return !(poison.sum() + tail).isFinite
        }
    }
}
