// Provenance: torch.nn.LayerNorm(width) with elementwise_affine=True, eps=1e-5 (torch 2.13):
// y = (x − mean) / √(var + eps) · γ + β per row, var the biased (1/width) variance.
import Training

/// Affine layer normalisation over the last dimension of `[R × width]` rows.
///
/// Statistics, centring and the backward row reductions run in Double (the remaining element
/// arithmetic is Float), so wide rows and rows with a large common offset lose no precision.
public struct LayerNorm: Sendable {
    /// γ, `[width]`.
    public let weight: Parameter
    /// β, `[width]`.
    public let bias: Parameter
    /// ε added to the variance; torch's default 1e-5.
    public let epsilon: Float

    public var width: Int { weight.count }

    /// What backward needs from one forward call: the normalised rows and their 1/σ.
    public struct Context: Sendable {
        public let rows: Int
        /// x̂ = (x − mean)·rstd, `[rows × width]`.
        public let normalized: [Float]
        /// 1/√(var + ε) per row, `[rows]`.
        public let inverseStandardDeviation: [Float]
    }

    /// A layer over existing parameters; `weight` and `bias` must both be `[width]`.
    public init(weight: Parameter, bias: Parameter, epsilon: Float = 1e-5) {
        precondition(weight.shape.count == 1 && bias.shape == weight.shape,
                     "\(weight.name), \(bias.name): LayerNorm parameters are [width], got \(weight.shape), \(bias.shape)")
        self.weight = weight
        self.bias = bias
        self.epsilon = epsilon
    }

    /// torch's initialisation: γ = 1, β = 0; parameters `"<name>.weight"` and `"<name>.bias"`.
    public init(name: String, width: Int, epsilon: Float = 1e-5) {
        precondition(width > 0, "\(name): width must be positive")
        self.init(
            weight: Parameter(name: name + ".weight", shape: [width], repeating: 1),
            bias: Parameter(name: name + ".bias", shape: [width], repeating: 0), epsilon: epsilon)
    }

    /// `y = x̂ ⊙ γ + β` with `x̂ = (x − mean(x)) / √(var(x) + ε)` per row.
    ///
    /// - Parameter x: `[rows × width]`.
    /// - Returns: y `[rows × width]` and the context for ``backward(_:outputGradient:)``.
    public func forward(_ x: [Float], rows: Int) -> (output: [Float], context: Context) {
        let d = width
        precondition(rows >= 0 && x.count == rows * d, "LayerNorm.forward: \(x.count) inputs for \(rows) × \(d)")
        var normalized = [Float](repeating: 0, count: rows * d)
        var output = [Float](repeating: 0, count: rows * d)
        var inverseStandardDeviation = [Float](repeating: 0, count: rows)
        let (gamma, beta) = (weight.values, bias.values)
        for r in 0..<rows {
            let base = r * d
            var sum = 0.0
            for i in 0..<d { sum += Double(x[base + i]) }
            let mean = sum / Double(d)
            var squares = 0.0
            for i in 0..<d {
                let centred = Double(x[base + i]) - mean
                squares += centred * centred
            }
            let rstd = 1 / (squares / Double(d) + Double(epsilon)).squareRoot()
            inverseStandardDeviation[r] = Float(rstd)
            for i in 0..<d {  // centred in Double: rows far from zero keep their small deviations
                let xHat = Float((Double(x[base + i]) - mean) * rstd)
                normalized[base + i] = xHat
                output[base + i] = xHat * gamma[i] + beta[i]
            }
        }
        return (output, Context(rows: rows, normalized: normalized, inverseStandardDeviation: inverseStandardDeviation))
    }

    /// Backward of ``forward(_:rows:)``: accumulates `∂γ += Σ_rows dy ⊙ x̂` and `∂β += Σ_rows dy`,
    /// and returns, per row with g = dy ⊙ γ,
    /// `dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂))`.
    ///
    /// - Parameter dy: ∂loss/∂y, `[rows × width]`.
    /// - Returns: ∂loss/∂x, `[rows × width]`.
    public func backward(_ context: Context, outputGradient dy: [Float]) -> [Float] {
        let (rows, d) = (context.rows, width)
        precondition(dy.count == rows * d, "LayerNorm.backward: \(dy.count) gradients for \(rows) × \(d)")
        var dx = [Float](repeating: 0, count: rows * d)
        let gamma = weight.values
        let xHat = context.normalized
        weight.gradient.withUnsafeMutableBufferPointer { dGamma in
            bias.gradient.withUnsafeMutableBufferPointer { dBeta in
                for r in 0..<rows {
                    let base = r * d
                    var sumG = 0.0, sumGX = 0.0
                    for i in 0..<d {
                        let g = dy[base + i] * gamma[i]
                        sumG += Double(g)
                        sumGX += Double(g * xHat[base + i])
                        dGamma[i] += dy[base + i] * xHat[base + i]
                        dBeta[i] += dy[base + i]
                    }
                    let meanG = Float(sumG / Double(d)), meanGX = Float(sumGX / Double(d))
                    let rstd = context.inverseStandardDeviation[r]
                    for i in 0..<d {
                        let g = dy[base + i] * gamma[i]
                        dx[base + i] = rstd * (g - meanG - xHat[base + i] * meanGX)
                    }
                }
            }
        }
        return dx
    }
}
