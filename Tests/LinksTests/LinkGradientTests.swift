// Reference: central finite differences in Float64 of ReferenceLink (the spec's formulas in
// Double), against our fp32 forward and analytic backward, for every link type.
import Kernels
import Links
import Testing
import Training

/// Central-difference step. In Double the truncation error (~h²·f‴) and the rounding error
/// (~1e-16·|L|/h) are both ≲ 1e-9 here, far below the fp32 errors being measured.
private let step = 1e-5
/// Our arithmetic is fp32 and the reference is exact to ~1e-9, so what is measured is fp32
/// rounding through ≤ 4 layers of width ≤ 22: max |Δ| / max |numeric| ≤ 6e-7 over every type,
/// row count and tensor (forward: ≤ 2.1e-7 of the Double reference). The tanh GELU in place of
/// erf is off by ~2e-4 in the MLP types' parameter gradients.
private let tolerance = 5e-6

/// One forward and backward of a link at random inputs, with the reference beside it.
private struct GradientProbe {
    let link: any RecursiveLink
    let reference: ReferenceLink
    let rows: Int
    let x: [Float]
    let upstream: [Float]
    let output: [Float]
    let inputGradient: [Float]

    init(kind: String, inputWidth: Int, outputWidth: Int, rows: Int, seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        link = try makeLink(kind, inputWidth: inputWidth, outputWidth: outputWidth, prefix: "link.", using: &generator)
        perturbLayerNorms(link.parameters, using: &generator)
        self.rows = rows
        x = gaussians(rows * inputWidth, offset: 0.4, using: &generator)
        upstream = gaussians(rows * outputWidth, using: &generator)
        let (output, context) = link.forward(x, rows: rows)
        self.output = output
        link.parameters.zeroGradients()
        inputGradient = link.backward(context, outputGradient: upstream)
        reference = ReferenceLink(kind: kind, parameters: link.parameters, prefix: "link.")
    }

    func loss(_ x: [Double], _ reference: ReferenceLink) -> Double {
        reference.loss(x, rows: rows, upstream: upstream.map(Double.init))
    }

    /// ∂L/∂x by central differences, every element.
    func numericInputGradient() -> [Double] {
        let base = x.map(Double.init)
        return base.indices.map { i in
            var plus = base, minus = base
            plus[i] += step
            minus[i] -= step
            return (loss(plus, reference) - loss(minus, reference)) / (2 * step)
        }
    }

    /// ∂L/∂(tensor `name`) by central differences, every element.
    func numericGradient(of name: String) -> [Double] {
        let values = reference.tensors[name]!
        return values.indices.map { i in
            var plus = reference, minus = reference
            plus.tensors[name]![i] += step
            minus.tensors[name]![i] -= step
            return (loss(x.map(Double.init), plus) - loss(x.map(Double.init), minus)) / (2 * step)
        }
    }
}

@Suite("Link gradients vs Float64 finite differences")
struct LinkGradientTests {
    @Test("forward, input gradient and every parameter gradient", arguments: allLinkKindNames)
    func finiteDifferences(kind: String) throws {
        let isInner = InnerLinkKind(rawValue: kind) != nil
        // Inner d = 9; outer 7 → 11 (hidden 11, or 22 with the norms). Rows 1 and 3.
        for (rows, seed) in [(1, UInt64(11)), (3, UInt64(12))] {
            let probe = try GradientProbe(
                kind: kind, inputWidth: isInner ? 9 : 7, outputWidth: isInner ? 9 : 11, rows: rows, seed: seed)
            let forward = normwiseDeviation(probe.output, probe.reference.forward(probe.x.map(Double.init), rows: rows))
            #expect(forward <= 1e-6, "\(kind), \(rows) rows: forward deviates by \(forward)")
            let input = normwiseDeviation(probe.inputGradient, probe.numericInputGradient())
            #expect(input <= tolerance, "\(kind), \(rows) rows: ∂L/∂x deviates by \(input)")
            for parameter in probe.link.parameters {
                let name = String(parameter.name.dropFirst("link.".count))
                let deviation = normwiseDeviation(parameter.gradient, probe.numericGradient(of: name))
                #expect(deviation <= tolerance, "\(kind), \(rows) rows: ∂L/∂\(name) deviates by \(deviation)")
            }
        }
    }

    @Test("the checks can fail: a gradient off by one bias row is detected")
    func detectsAWrongGradient() throws {
        let probe = try GradientProbe(kind: "outer_ln_res_adapter", inputWidth: 7, outputWidth: 11, rows: 3, seed: 5)
        var wrong = probe.link.parameters[name: "link.proj2.bias"]!.gradient
        wrong[0] += 0.01 * wrong.map(abs).max()!
        #expect(normwiseDeviation(wrong, probe.numericGradient(of: "proj2.bias")) > tolerance)
    }
}
