// Reference: the formula tables of docs/recursivemas-spec.md §1.1 (inner) and §2.1 (outer),
// transcribed one type at a time in Double with naive loops; shares no code with Sources/Links.
import Foundation
import Links
import Training

/// A link evaluated in Double straight from the spec's formulas, for finite differences and as
/// an independent forward reference.
struct ReferenceLink {
    /// The reference type name (`ln_res_adapter`, `outer_res_adapter`, …).
    let kind: String
    /// Tensors by unprefixed state-dict name, row-major (`proj1.weight` is `[out × in]`).
    var tensors: [String: [Double]]

    /// The values of `parameters` with `prefix` removed from the names.
    init(kind: String, parameters: ParameterSet, prefix: String = "") {
        self.kind = kind
        tensors = [:]
        for parameter in parameters {
            tensors[String(parameter.name.dropFirst(prefix.count))] = parameter.values.map(Double.init)
        }
    }

    /// The link on `x [rows × in]`, `[rows × out]`.
    func forward(_ x: [Double], rows: Int) -> [Double] {
        switch kind {
        case "linear_adapter", "outer_linear_adapter":
            return linear("proj1", x, rows)
        case "linear_res_adapter":
            return sum(x, linear("proj1", x, rows))
        case "outer_linear_res_adapter":
            return sum(linear("proj1", x, rows), linear("residual_proj", x, rows))
        case "adapter", "outer_adapter":
            return perceptron(x, rows)
        case "res_adapter":
            return sum(x, perceptron(x, rows))
        case "outer_res_adapter":
            return sum(perceptron(x, rows), linear("residual_proj", x, rows))
        case "ln_res_adapter":
            return layerNorm("post_ln", sum(x, perceptron(layerNorm("pre_ln", x, rows), rows)), rows)
        case "outer_ln_adapter":
            return layerNorm("ln_target", perceptron(layerNorm("ln_source", x, rows), rows), rows)
        case "outer_ln_res_adapter":
            let body = perceptron(layerNorm("ln_source", x, rows), rows)
            return layerNorm("ln_target", sum(body, linear("residual_proj", x, rows)), rows)
        default:
            preconditionFailure("no reference for \(kind)")
        }
    }

    /// `Σ forward(x) ⊙ upstream`.
    func loss(_ x: [Double], rows: Int, upstream: [Double]) -> Double {
        zip(forward(x, rows: rows), upstream).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// `W2·GELU(W1·x + b1) + b2`.
    private func perceptron(_ x: [Double], _ rows: Int) -> [Double] {
        linear("proj2", linear("proj1", x, rows).map(Self.gelu), rows)
    }

    /// `x Wᵀ + b` with W `[out × in]`.
    private func linear(_ module: String, _ x: [Double], _ rows: Int) -> [Double] {
        let w = tensors[module + ".weight"]!, b = tensors[module + ".bias"]!
        let (outputs, inputs) = (b.count, w.count / b.count)
        precondition(x.count == rows * inputs)
        var y = [Double](repeating: 0, count: rows * outputs)
        for r in 0..<rows {
            for o in 0..<outputs {
                var total = b[o]
                for i in 0..<inputs { total += x[r * inputs + i] * w[o * inputs + i] }
                y[r * outputs + o] = total
            }
        }
        return y
    }

    /// torch.nn.LayerNorm: `(x − mean)/√(var + 1e-5)·γ + β`, biased variance, per row.
    private func layerNorm(_ module: String, _ x: [Double], _ rows: Int) -> [Double] {
        let gamma = tensors[module + ".weight"]!, beta = tensors[module + ".bias"]!
        let d = gamma.count
        var y = x
        for r in 0..<rows {
            let row = x[(r * d)..<(r * d + d)]
            let mean = row.reduce(0, +) / Double(d)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)
            for i in 0..<d { y[r * d + i] = (x[r * d + i] - mean) / (variance + 1e-5).squareRoot() * gamma[i] + beta[i] }
        }
        return y
    }

    private func sum(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map(+) }

    /// Exact GELU, `x·Φ(x)`.
    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }
}
