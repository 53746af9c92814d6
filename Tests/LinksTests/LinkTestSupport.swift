// Test helpers shared by the LinksTests suites (no reference arithmetic here).
import Kernels
import Links
import Training

/// Every reference type name: the five inner types, then the six outer ones.
let allLinkKindNames = InnerLinkKind.allCases.map(\.rawValue) + OuterLinkKind.allCases.map(\.rawValue)

/// A freshly initialised link of the type called `kind` (inner types need equal widths).
func makeLink(
    _ kind: String, inputWidth: Int, outputWidth: Int, prefix: String = "", using generator: inout SplitMix64
) throws -> any RecursiveLink {
    if let inner = InnerLinkKind(rawValue: kind) {
        precondition(inputWidth == outputWidth, "inner links are d → d")
        return InnerLink(kind: inner, width: inputWidth, prefix: prefix, using: &generator)
    }
    return OuterLink(
        kind: try OuterLinkKind(name: kind), inputWidth: inputWidth, outputWidth: outputWidth, prefix: prefix,
        using: &generator)
}

/// Moves every LayerNorm γ and β (1-D tensors whose name mentions "ln") off torch's 1 / 0
/// initialisation, so that gradient checks exercise both affine terms.
func perturbLayerNorms(_ parameters: ParameterSet, using generator: inout SplitMix64) {
    for parameter in parameters where parameter.shape.count == 1 && parameter.name.contains("ln") {
        let isGain = parameter.name.hasSuffix(".weight")
        for i in 0..<parameter.count {
            parameter.values[i] = (isGain ? 1 : 0) + 0.3 * generator.nextGaussian()
        }
    }
}

/// `count` standard normal values plus `offset`.
func gaussians(_ count: Int, offset: Float = 0, using generator: inout SplitMix64) -> [Float] {
    (0..<count).map { _ in offset + generator.nextGaussian() }
}

/// max |ours − reference| / max |reference|: the error relative to the tensor's scale, which
/// stays meaningful for elements near zero (where elementwise relative error is noise).
func normwiseDeviation(_ ours: [Float], _ reference: [Double]) -> Double {
    precondition(ours.count == reference.count, "\(ours.count) vs \(reference.count) elements")
    let scale = reference.reduce(0) { max($0, abs($1)) }
    let worst = zip(ours, reference).reduce(0) { max($0, abs(Double($1.0) - $1.1)) }
    return worst / max(scale, .leastNormalMagnitude)
}
