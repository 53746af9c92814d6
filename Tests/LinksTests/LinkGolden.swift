// Golden: Fixtures/links-torch.json, made by Tools/golden/make_link_golden.py (torch 2.13.0+cpu,
// float64 autograd): every inner and outer link type, its output and all gradients.
import Foundation
import Training

/// The decoded golden file. float32-exact inputs are stored with 9 significant digits, so
/// decoding as Double and converting to Float gives exactly the values torch used.
struct LinkGolden: Decodable, Sendable {
    struct Tensor: Decodable, Sendable {
        let name: String
        /// torch's shape.
        let shape: [Int]
        let values: [Double]
        /// ∂loss/∂values in float64.
        let grad: [Double]
    }

    /// One link type: `loss = Σ link(input) ⊙ upstream`, and what torch computed.
    struct Variant: Decodable, Sendable {
        let kind: String
        let inputWidth: Int
        let outputWidth: Int
        let rows: Int
        /// x, `[rows × inputWidth]`.
        let input: [Double]
        /// U, `[rows × outputWidth]`: ∂loss/∂output.
        let upstream: [Double]
        /// In named_parameters() order (the reference state-dict order).
        let parameters: [Tensor]
        /// `[rows × outputWidth]`.
        let output: [Double]
        let loss: Double
        /// ∂loss/∂x, `[rows × inputWidth]`.
        let inputGrad: [Double]

        /// Fresh parameters holding the golden's values (float32-exact), zero gradients.
        func parameterSet() throws -> ParameterSet {
            try ParameterSet(parameters.map { Parameter(name: $0.name, shape: $0.shape, values: $0.values.map(Float.init)) })
        }
    }

    let seed: UInt64
    let layerNormEps: Double
    let variants: [Variant]

    static func load() throws -> LinkGolden {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/links-torch.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(LinkGolden.self, from: Data(contentsOf: url))
    }
}
