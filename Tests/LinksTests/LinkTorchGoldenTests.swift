// Golden: Fixtures/links-torch.json (Tools/golden/make_link_golden.py, torch 2.13.0+cpu float64).
import Kernels
import Links
import Testing
import Training

/// Our links run fp32 on torch's exact (float32-representable) parameters and inputs; torch ran
/// float64. What remains is fp32 rounding through at most four layers of width ≤ 28: measured
/// max |Δ| / max |torch| ≤ 1.7e-7 for outputs, ≤ 1.5e-7 for input gradients and ≤ 3.6e-7 for
/// parameter gradients, over all eleven types (OpenBLAS sgemm). 5e-6 leaves room for a BLAS
/// that sums in another order, while wrong formulas fail in every type they touch: the tanh
/// GELU instead of erf by ≥ 3.8e-5 (outputs) and ≥ 1.3e-4 (parameter gradients), the unbiased
/// variance by ≥ 4e-2, LN_s(x) fed to residual_proj by 0.5.
private let tolerance = 5e-6

/// The link of `variant`'s type over the golden's parameters (shared, not copied).
private func link(for variant: LinkGolden.Variant, parameters: ParameterSet) throws -> any RecursiveLink {
    if let kind = InnerLinkKind(rawValue: variant.kind) {
        return try InnerLink(kind: kind, width: variant.inputWidth, parameters: parameters)
    }
    return try OuterLink(
        kind: try OuterLinkKind(name: variant.kind), inputWidth: variant.inputWidth,
        outputWidth: variant.outputWidth, parameters: parameters)
}

@Suite("Links vs PyTorch golden")
struct LinkTorchGoldenTests {
    let golden: LinkGolden

    init() throws { golden = try LinkGolden.load() }

    @Test("the golden covers every link type once")
    func coversEveryType() {
        #expect(golden.variants.map(\.kind) == allLinkKindNames)
        #expect(golden.layerNormEps == 1e-5)
    }

    @Test("parameter names, shapes and order are torch's state dict")
    func parameterNames() throws {
        var generator = SplitMix64(seed: 1)
        for variant in golden.variants {
            let fresh = try makeLink(
                variant.kind, inputWidth: variant.inputWidth, outputWidth: variant.outputWidth, using: &generator)
            #expect(fresh.parameters.map(\.name) == variant.parameters.map(\.name), "\(variant.kind)")
            #expect(fresh.parameters.map(\.shape) == variant.parameters.map(\.shape), "\(variant.kind)")
        }
    }

    @Test("outputs, input gradients and all parameter gradients match torch")
    func forwardAndBackward() throws {
        for variant in golden.variants {
            let parameters = try variant.parameterSet()
            let link = try link(for: variant, parameters: parameters)
            let (output, context) = link.forward(variant.input.map(Float.init), rows: variant.rows)
            let inputGradient = link.backward(context, outputGradient: variant.upstream.map(Float.init))

            let outputDeviation = normwiseDeviation(output, variant.output)
            #expect(outputDeviation <= tolerance, "\(variant.kind): output deviates by \(outputDeviation)")
            let loss = zip(output, variant.upstream).reduce(0.0) { $0 + Double($1.0) * $1.1 }
            #expect(abs(loss - variant.loss) <= tolerance * max(1, abs(variant.loss)), "\(variant.kind): loss \(loss)")
            let inputDeviation = normwiseDeviation(inputGradient, variant.inputGrad)
            #expect(inputDeviation <= tolerance, "\(variant.kind): ∂L/∂x deviates by \(inputDeviation)")
            for tensor in variant.parameters {
                let deviation = normwiseDeviation(parameters[name: tensor.name]!.gradient, tensor.grad)
                #expect(deviation <= tolerance, "\(variant.kind): ∂L/∂\(tensor.name) deviates by \(deviation)")
            }
        }
    }

    @Test("a prefixed link adopts prefixed parameters and ignores other links' tensors")
    func prefixedAdoption() throws {
        let variant = try #require(golden.variants.first { $0.kind == "outer_ln_res_adapter" })
        var parameters = try ParameterSet(variant.parameters.map {
            Parameter(name: "outer_12." + $0.name, shape: $0.shape, values: $0.values.map(Float.init))
        })
        try parameters.append(Parameter(name: "outer_23.proj1.weight", shape: [3, 3], repeating: 0))
        let link = try OuterLink(
            kind: .default, inputWidth: variant.inputWidth, outputWidth: variant.outputWidth, parameters: parameters,
            prefix: "outer_12.")
        #expect(link.parameters.count == variant.parameters.count)
        #expect(link.parameters.allSatisfy { $0.name.hasPrefix("outer_12.") })
        let output = link(variant.input.map(Float.init), rows: variant.rows)
        #expect(normwiseDeviation(output, variant.output) <= tolerance)
    }
}
