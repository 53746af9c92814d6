// Provenance: torch.nn.GELU() with approximate='none' (torch 2.13): gelu(x) = x·Φ(x) =
// ½x(1 + erf(x/√2)); its derivative Φ(x) + x·φ(x) with φ the standard normal density.
import Foundation

/// The exact (erf) GELU, elementwise over any buffer, with its backward.
///
/// erf and exp are the C library's single-precision ones (`erff`, `expf`, ≤ 1–2 ulp in glibc);
/// backward needs only the forward input, which the caller keeps as the context.
public enum GELU {
    /// 1/√2.
    private static let inverseSquareRootTwo: Float = 0.707_106_781_186_547_52
    /// 1/√(2π).
    private static let inverseSquareRootTwoPi: Float = 0.398_942_280_401_432_68

    /// `y = ½x(1 + erf(x/√2))`, elementwise; y has x's shape.
    public static func forward(_ x: [Float]) -> [Float] {
        x.map { value in 0.5 * value * (1 + erf(value * inverseSquareRootTwo)) }
    }

    /// Backward of ``forward(_:)``: `dx = dy ⊙ (Φ(x) + x·φ(x))`, Φ(x) = ½(1 + erf(x/√2)),
    /// φ(x) = e^(−x²/2)/√(2π).
    ///
    /// - Parameters:
    ///   - x: the forward input (any shape).
    ///   - dy: ∂loss/∂y, same count as `x`.
    /// - Returns: ∂loss/∂x, same count.
    public static func backward(input x: [Float], outputGradient dy: [Float]) -> [Float] {
        precondition(x.count == dy.count, "GELU.backward: \(x.count) inputs, \(dy.count) gradients")
        return [Float](unsafeUninitializedCapacity: x.count) { dx, count in
            for i in x.indices { dx[i] = dy[i] * slope(x[i]) }
            count = x.count
        }
    }

    /// gelu′(x) = Φ(x) + x·φ(x).
    @inline(__always)
    static func slope(_ x: Float) -> Float {
        let cdf = 0.5 * (1 + erf(x * inverseSquareRootTwo))
        return cdf + x * inverseSquareRootTwoPi * exp(-0.5 * x * x)
    }
}
