// Provenance: torch.nn.Linear (torch 2.13): y = x Wᵀ + b with W stored [out × in], and its
// default reset_parameters (kaiming_uniform_(a=√5) on W, U(−1/√in, 1/√in) on b).
import Kernels
import Training

/// A trainable affine map over rows: `y [R × out] = x [R × in] · Wᵀ + b`.
///
/// `weight` is `[out × in]` (one row per output feature, as torch stores it) and `bias` is
/// `[out]`. Forward and both backward products are fp32 GEMMs (``BLAS/gemm``) for any R ≥ 1.
///
/// The only thing backward needs from forward is the input `x`, so the caller's copy of it is
/// the per-call context: keep it alive until ``backward(input:outputGradient:rows:)``.
public struct Dense: Sendable {
    /// W, `[outputWidth × inputWidth]`.
    public let weight: Parameter
    /// b, `[outputWidth]`.
    public let bias: Parameter

    public var inputWidth: Int { weight.shape[1] }
    public var outputWidth: Int { weight.shape[0] }

    /// A layer over existing parameters; `weight` must be 2-D `[out × in]` and `bias` `[out]`.
    public init(weight: Parameter, bias: Parameter) {
        precondition(weight.shape.count == 2, "\(weight.name): a Dense weight is [out × in], got \(weight.shape)")
        precondition(bias.shape == [weight.shape[0]], "\(bias.name): expected [\(weight.shape[0])], got \(bias.shape)")
        self.weight = weight
        self.bias = bias
    }

    /// torch.nn.Linear's default initialisation, in distribution: every element of W and then of
    /// b drawn i.i.d. from U[−1/√in, 1/√in) in row-major order from `generator`.
    ///
    /// kaiming_uniform_(a=√5) has gain √(2/(1+a²)) = √(1/3) and bound gain·√(3/in) = 1/√in, the
    /// same bound torch uses for the bias. The random stream is ours (SplitMix64), not torch's.
    ///
    /// - Parameter name: the module name; the parameters are `"<name>.weight"` and `"<name>.bias"`.
    public init(name: String, inputWidth: Int, outputWidth: Int, using generator: inout SplitMix64) {
        precondition(inputWidth > 0 && outputWidth > 0, "\(name): widths must be positive")
        let bound = 1 / Float(inputWidth).squareRoot()
        let weight = Parameter.uniform(
            name: name + ".weight", shape: [outputWidth, inputWidth], bound: bound, using: &generator)
        let bias = Parameter.uniform(name: name + ".bias", shape: [outputWidth], bound: bound, using: &generator)
        self.init(weight: weight, bias: bias)
    }

    /// `y = x Wᵀ + b`.
    ///
    /// - Parameters:
    ///   - x: `[rows × inputWidth]`, row-major.
    /// - Returns: `[rows × outputWidth]`.
    public func forward(_ x: [Float], rows: Int) -> [Float] {
        let (n, k) = (outputWidth, inputWidth)
        precondition(rows >= 0 && x.count == rows * k, "Dense.forward: \(x.count) inputs for \(rows) × \(k)")
        guard rows > 0 else { return [] }
        var y = [Float]()  // b in every row; the GEMM then adds x Wᵀ (beta = 1)
        y.reserveCapacity(rows * n)
        let b = bias.values
        for _ in 0..<rows { y.append(contentsOf: b) }
        x.withUnsafeBufferPointer { x in
            weight.values.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { y in
                    BLAS.gemm(
                        m: rows, n: n, k: k, a: x.baseAddress!, lda: k, b: w.baseAddress!, ldb: k,
                        transposeB: true, beta: 1, c: y.baseAddress!, ldc: n)
                }
            }
        }
        return y
    }

    /// Backward of ``forward(_:rows:)``: accumulates `∂W += dyᵀ x` and `∂b += Σ_rows dy` into
    /// the parameters' gradients and returns `dx = dy W`.
    ///
    /// - Parameters:
    ///   - x: the forward input, `[rows × inputWidth]`.
    ///   - dy: ∂loss/∂y, `[rows × outputWidth]`.
    /// - Returns: ∂loss/∂x, `[rows × inputWidth]`.
    public func backward(input x: [Float], outputGradient dy: [Float], rows: Int) -> [Float] {
        let (n, k) = (outputWidth, inputWidth)
        precondition(x.count == rows * k && dy.count == rows * n, "Dense.backward: buffers do not match \(rows) rows")
        guard rows > 0 else { return [] }
        var dx = [Float](repeating: 0, count: rows * k)
        dy.withUnsafeBufferPointer { dy in
            let dyBase = dy.baseAddress!
            weight.values.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { dx in  // dx [R×in] = dy [R×out] · W [out×in]
                    BLAS.gemm(
                        m: rows, n: k, k: n, a: dyBase, lda: n, b: w.baseAddress!, ldb: k,
                        transposeB: false, c: dx.baseAddress!, ldc: k)
                }
            }
            x.withUnsafeBufferPointer { x in
                weight.gradient.withUnsafeMutableBufferPointer { dw in  // ∂W [out×in] += dyᵀ · x
                    BLAS.gemm(
                        m: n, n: k, k: rows, a: dyBase, lda: n, transposeA: true, b: x.baseAddress!, ldb: k,
                        transposeB: false, beta: 1, c: dw.baseAddress!, ldc: k)
                }
            }
            bias.gradient.withUnsafeMutableBufferPointer { db in
                for r in 0..<rows {
                    for o in 0..<n { db[o] += dyBase[r * n + o] }
                }
            }
        }
        return dx
    }
}
