// Provenance: RecursiveMAS train/model.py `Adapter` (inner link, spec §1.1) and
// `CrossModelAdapter` (outer link, spec §2.1); the arithmetic lives in LinkNetwork.
import Kernels
import Training

/// A trainable RecursiveLink: a named ``LinkNetwork`` configuration with forward and backward.
///
/// Inner and outer links differ only in how their kind maps to a ``LinkNetwork/Layout``; this
/// protocol gives both the same surface (widths, parameters, forward, backward).
public protocol RecursiveLink: Sendable {
    /// The network this link runs.
    var network: LinkNetwork { get }
}

extension RecursiveLink {
    /// Input width (d, or d_s).
    public var inputWidth: Int { network.inputWidth }
    /// Output width (d, or d_t).
    public var outputWidth: Int { network.outputWidth }
    /// All trainable tensors, names as in the reference state dict after the link's prefix.
    public var parameters: ParameterSet { network.parameters }

    /// The link on `rows` rows: `x [rows × inputWidth]` → `[rows × outputWidth]`, plus the
    /// context for ``backward(_:outputGradient:)``.
    public func forward(_ x: [Float], rows: Int) -> (output: [Float], context: LinkNetwork.Context) {
        network.forward(x, rows: rows)
    }

    /// The output alone, for inference.
    public func callAsFunction(_ x: [Float], rows: Int) -> [Float] { network(x, rows: rows) }

    /// Accumulates parameter gradients for one forward call and returns ∂loss/∂x
    /// `[rows × inputWidth]` from `dy` `[rows × outputWidth]`.
    public func backward(_ context: LinkNetwork.Context, outputGradient dy: [Float]) -> [Float] {
        network.backward(context, outputGradient: dy)
    }
}

/// The inner link (`Adapter`): a hidden state of width d → an input embedding of width d of the
/// same model.
public struct InnerLink: RecursiveLink {
    public let kind: InnerLinkKind
    public let network: LinkNetwork

    /// Hidden size d (input and output width).
    public var width: Int { network.inputWidth }

    /// A freshly initialised link (torch's default initialisation in distribution; see
    /// ``LinkNetwork/init(layout:prefix:using:)``).
    public init(kind: InnerLinkKind = .default, width: Int, prefix: String = "", using generator: inout SplitMix64) {
        self.kind = kind
        network = LinkNetwork(layout: kind.layout(width: width), prefix: prefix, using: &generator)
    }

    /// A freshly initialised link drawn from `SplitMix64(seed: seed)`.
    public init(kind: InnerLinkKind = .default, width: Int, prefix: String = "", seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        self.init(kind: kind, width: width, prefix: prefix, using: &generator)
    }

    /// A link over existing parameters, matched by `prefix + name` (see
    /// ``LinkNetwork/init(layout:parameters:prefix:)``).
    public init(kind: InnerLinkKind, width: Int, parameters: ParameterSet, prefix: String = "") throws(LinkError) {
        self.kind = kind
        network = try LinkNetwork(layout: kind.layout(width: width), parameters: parameters, prefix: prefix)
    }
}

/// The outer link (`CrossModelAdapter`): the source agent's inner-link output (width d_s) → the
/// target agent's input-embedding space (width d_t).
public struct OuterLink: RecursiveLink {
    public let kind: OuterLinkKind
    public let network: LinkNetwork

    /// A freshly initialised link (torch's default initialisation in distribution; see
    /// ``LinkNetwork/init(layout:prefix:using:)``).
    public init(
        kind: OuterLinkKind = .default, inputWidth: Int, outputWidth: Int, prefix: String = "",
        using generator: inout SplitMix64
    ) {
        self.kind = kind
        network = LinkNetwork(
            layout: kind.layout(inputWidth: inputWidth, outputWidth: outputWidth), prefix: prefix, using: &generator)
    }

    /// A freshly initialised link drawn from `SplitMix64(seed: seed)`.
    public init(kind: OuterLinkKind = .default, inputWidth: Int, outputWidth: Int, prefix: String = "", seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        self.init(kind: kind, inputWidth: inputWidth, outputWidth: outputWidth, prefix: prefix, using: &generator)
    }

    /// A link over existing parameters, matched by `prefix + name` (see
    /// ``LinkNetwork/init(layout:parameters:prefix:)``).
    public init(
        kind: OuterLinkKind, inputWidth: Int, outputWidth: Int, parameters: ParameterSet, prefix: String = ""
    ) throws(LinkError) {
        self.kind = kind
        network = try LinkNetwork(
            layout: kind.layout(inputWidth: inputWidth, outputWidth: outputWidth), parameters: parameters,
            prefix: prefix)
    }
}
