// Provenance: 1 − torch.nn.functional.cosine_similarity (each norm clamped at eps = 1e-8) and the
// mean squared error, as the RecursiveMAS inner-link objective uses them (spec §1.3).
import Kernels

/// Cosine distance between rows: L = scale · Σ_r (1 − cos(a_r, b_r)).
public enum CosineDistance {
    public static let epsilon: Float = 1e-8

    /// Returns Σ_r (1 − cos(a_r, b_r)) (unscaled) and **adds** scale · dL/da into `predictionGradient`
    /// and, when given, scale · dL/db into `targetGradient`; a and b are `[R × D]`.
    ///
    /// d cos/da = b/(|a||b|) − cos · a/|a|².
    public static func lossAndGradient(
        prediction a: UnsafePointer<Float>, target b: UnsafePointer<Float>, rows: Int, width d: Int, scale: Float,
        predictionGradient: UnsafeMutablePointer<Float>?, targetGradient: UnsafeMutablePointer<Float>? = nil
    ) -> Double {
        var total: Double = 0
        for r in 0..<rows {
            let ar = a + r * d, br = b + r * d
            let aNorm = max(Dot.dot(ar, ar, count: d).squareRoot(), epsilon)
            let bNorm = max(Dot.dot(br, br, count: d).squareRoot(), epsilon)
            let cosine = Dot.dot(ar, br, count: d) / (aNorm * bNorm)
            total += Double(1 - cosine)
            // dL/da = −scale · (b/(|a||b|) − cos · a/|a|²), and symmetrically for b.
            if let g = predictionGradient {
                Dot.axpy(-scale / (aNorm * bNorm), br, g + r * d, count: d)
                Dot.axpy(scale * cosine / (aNorm * aNorm), ar, g + r * d, count: d)
            }
            if let g = targetGradient {
                Dot.axpy(-scale / (aNorm * bNorm), ar, g + r * d, count: d)
                Dot.axpy(scale * cosine / (bNorm * bNorm), br, g + r * d, count: d)
            }
        }
        return total
    }
}

/// Squared error between rows: L = scale · Σ_r Σ_i (a_ri − b_ri)².
public enum SquaredError {
    /// Returns Σ (a − b)² (unscaled, Double) and **adds** scale · 2(a − b) into `predictionGradient`
    /// (and its negative into `targetGradient` when given); a and b are `[R × D]`. For the mean
    /// over rows and width pass `scale = 1/(R·D)`.
    public static func lossAndGradient(
        prediction a: UnsafePointer<Float>, target b: UnsafePointer<Float>, rows: Int, width d: Int, scale: Float,
        predictionGradient: UnsafeMutablePointer<Float>?, targetGradient: UnsafeMutablePointer<Float>? = nil
    ) -> Double {
        var total: Double = 0
        for i in 0..<(rows * d) {
            let difference = a[i] - b[i]
            total += Double(difference * difference)
            predictionGradient?[i] += 2 * scale * difference
            targetGradient?[i] -= 2 * scale * difference
        }
        return total
    }
}
