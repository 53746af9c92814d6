// Reference: docs/recursivemas-spec.md §1.1 and §2.1 (type names, aliases, keys and shapes);
// torch.nn.Linear.reset_parameters and torch.nn.LayerNorm's initial γ = 1, β = 0.
import Foundation
import Kernels
import Links
import Testing
import Training

@Suite("Link kinds, parameters and initialisation")
struct LinkKindTests {
    @Test("raw names and aliases resolve as the reference's tables say")
    func names() throws {
        #expect(try InnerLinkKind(name: "ln_res_adapter") == .layerNormResidualAdapter)
        let innerAliases: [(String, InnerLinkKind)] = [
            ("1layer", .linearAdapter), ("1layer_res", .linearResidualAdapter), ("2layer", .adapter),
            ("2layer_res", .residualAdapter), ("2layer_ln_res", .layerNormResidualAdapter),
        ]
        for (alias, kind) in innerAliases { #expect(try InnerLinkKind(name: alias) == kind) }
        #expect(try OuterLinkKind(name: "2layer_ln_res") == .layerNormResidualAdapter)
        #expect(try OuterLinkKind(name: "outer_ln_adapter") == .layerNormAdapter)
        #expect(InnerLinkKind.default.rawValue == "ln_res_adapter")
        #expect(OuterLinkKind.default.rawValue == "outer_ln_res_adapter")
        for kind in InnerLinkKind.allCases { #expect(try InnerLinkKind(name: kind.rawValue) == kind) }
        for kind in OuterLinkKind.allCases { #expect(try OuterLinkKind(name: kind.rawValue) == kind) }
    }

    @Test("an unknown name throws a typed error listing what is accepted")
    func unknownName() {
        #expect(throws: LinkError.self) { try InnerLinkKind(name: "outer_ln_res_adapter") }
        do {
            _ = try OuterLinkKind(name: "ln_res_adapter")
            Issue.record("expected a throw")
        } catch {
            guard case .unknownKind(let name, let known) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(name == "ln_res_adapter" && known.contains("outer_ln_res_adapter") && known.contains("2layer"))
        }
    }

    @Test("the default links have the spec's keys and shapes")
    func defaultShapes() {
        let inner = InnerLink(width: 6, seed: 1)
        let innerShapes = Dictionary(uniqueKeysWithValues: inner.parameters.map { ($0.name, $0.shape) })
        #expect(innerShapes == [
            "proj1.weight": [6, 6], "proj1.bias": [6], "proj2.weight": [6, 6], "proj2.bias": [6],
            "pre_ln.weight": [6], "pre_ln.bias": [6], "post_ln.weight": [6], "post_ln.bias": [6],
        ])
        let outer = OuterLink(inputWidth: 5, outputWidth: 3, prefix: "outer_12.", seed: 1)
        let outerShapes = Dictionary(uniqueKeysWithValues: outer.parameters.map { ($0.name, $0.shape) })
        #expect(outerShapes == [
            "outer_12.proj1.weight": [6, 5], "outer_12.proj1.bias": [6], "outer_12.proj2.weight": [3, 6],
            "outer_12.proj2.bias": [3], "outer_12.residual_proj.weight": [3, 5], "outer_12.residual_proj.bias": [3],
            "outer_12.ln_source.weight": [5], "outer_12.ln_source.bias": [5], "outer_12.ln_target.weight": [3],
            "outer_12.ln_target.bias": [3],
        ])
        #expect(outer.inputWidth == 5 && outer.outputWidth == 3 && outer.kind == .layerNormResidualAdapter)
        // Without norms the outer hidden width is d_t.
        let plain = OuterLink(kind: .residualAdapter, inputWidth: 5, outputWidth: 3, seed: 1)
        #expect(plain.parameters[name: "proj1.weight"]?.shape == [3, 5])
    }

    @Test("initialisation: Linear tensors U(−1/√in, 1/√in), LayerNorm γ = 1, β = 0; seeded")
    func initialisation() {
        let link = OuterLink(inputWidth: 400, outputWidth: 300, seed: 42)
        for parameter in link.parameters {
            if parameter.name.hasPrefix("ln_") {
                let expected: Float = parameter.name.hasSuffix(".weight") ? 1 : 0
                #expect(parameter.values.allSatisfy { $0 == expected }, "\(parameter.name)")
                continue
            }
            let fanIn = Double(link.parameters[name: parameter.name.replacingOccurrences(of: ".bias", with: ".weight")]!.shape[1])
            let bound = 1 / fanIn.squareRoot()
            let values = parameter.values.map(Double.init)
            #expect(values.allSatisfy { abs($0) <= bound }, "\(parameter.name) exceeds ±\(bound)")
            guard values.count >= 10_000 else { continue }
            // U(−a, a): mean 0 and variance a²/3; with n ≥ 1.2e5 draws the sample moments lie
            // within a few standard errors (≈ a/√(3n) and ≈ 0.9·a²/(3√n)) of those.
            let n = Double(values.count)
            let mean = values.reduce(0, +) / n
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
            #expect(abs(mean) < 6 * bound / (3 * n).squareRoot(), "\(parameter.name) mean \(mean)")
            #expect(abs(variance / (bound * bound / 3) - 1) < 0.02, "\(parameter.name) variance \(variance)")
        }
        let again = OuterLink(inputWidth: 400, outputWidth: 300, seed: 42)
        let other = OuterLink(inputWidth: 400, outputWidth: 300, seed: 43)
        #expect(zip(link.parameters, again.parameters).allSatisfy { $0.values == $1.values })
        #expect(link.parameters[0].values != other.parameters[0].values)
    }

    @Test("adopting stored parameters checks names and shapes")
    func adoptionErrors() throws {
        let source = InnerLink(width: 4, seed: 3).parameters
        let layout = InnerLinkKind.default.layout(width: 4)
        var missing = ParameterSet()
        for parameter in source where parameter.name != "post_ln.bias" { try missing.append(parameter) }
        #expect(throws: LinkError.missingParameter("post_ln.bias")) {
            try LinkNetwork(layout: layout, parameters: missing)
        }
        #expect(throws: LinkError.shapeMismatch(parameter: "proj1.weight", expected: [5, 5], found: [4, 4])) {
            try InnerLink(kind: .default, width: 5, parameters: source)
        }
        #expect(throws: LinkError.unexpectedParameter("proj2.weight")) {
            try InnerLink(kind: .linearResidualAdapter, width: 4, parameters: source)
        }
        let adopted = try InnerLink(kind: .default, width: 4, parameters: source)
        #expect(zip(adopted.parameters, source).allSatisfy { $0 === $1 })
    }
}
