// Provenance: the adapter types and aliases of RecursiveMAS train/model.py (spec §1.1 for the
// inner `Adapter`, §2.1 for the outer `CrossModelAdapter`), as configurations of LinkNetwork.

/// The five inner-link (`Adapter`, d → d) architectures, by their reference names.
public enum InnerLinkKind: String, CaseIterable, Sendable, Codable {
    /// `W1·x + b1`.
    case linearAdapter = "linear_adapter"
    /// `x + (W1·x + b1)`.
    case linearResidualAdapter = "linear_res_adapter"
    /// `W2·GELU(W1·x + b1) + b2`.
    case adapter = "adapter"
    /// `x + W2·GELU(W1·x + b1) + b2`.
    case residualAdapter = "res_adapter"
    /// `LN_post(x + W2·GELU(W1·LN_pre(x) + b1) + b2)`: the default, and the only type the
    /// released inference accepts.
    case layerNormResidualAdapter = "ln_res_adapter"

    /// `ln_res_adapter`.
    public static let `default` = InnerLinkKind.layerNormResidualAdapter

    /// The reference's alternative spellings (`1layer` … `2layer_ln_res`).
    public static let aliases: [String: InnerLinkKind] = [
        "1layer": .linearAdapter, "1layer_res": .linearResidualAdapter, "2layer": .adapter,
        "2layer_res": .residualAdapter, "2layer_ln_res": .layerNormResidualAdapter,
    ]

    /// The kind called `name`: a raw name or an alias.
    ///
    /// - Throws: ``LinkError/unknownKind(_:known:)`` listing every accepted spelling.
    public init(name: String) throws(LinkError) {
        guard let kind = InnerLinkKind(rawValue: name) ?? Self.aliases[name] else {
            throw .unknownKind(name, known: Self.allCases.map(\.rawValue) + Self.aliases.keys.sorted())
        }
        self = kind
    }

    /// The network of this kind for hidden size `width`; every Linear is `width → width`.
    public func layout(width: Int) -> LinkNetwork.Layout {
        let normalised = self == .layerNormResidualAdapter
        let body: LinkNetwork.Layout.Body =
            self == .linearAdapter || self == .linearResidualAdapter ? .linear : .mlp(hiddenWidth: width)
        return LinkNetwork.Layout(
            inputWidth: width, outputWidth: width, inputNorm: normalised ? "pre_ln" : nil, body: body,
            residual: self == .linearAdapter || self == .adapter ? .none : .identity,
            outputNorm: normalised ? "post_ln" : nil)
    }
}

/// The six outer-link (`CrossModelAdapter`, d_s → d_t) architectures, by their reference names.
public enum OuterLinkKind: String, CaseIterable, Sendable, Codable {
    /// `W1·x + b1`.
    case linearAdapter = "outer_linear_adapter"
    /// `W1·x + b1 + W3·x + b3`.
    case linearResidualAdapter = "outer_linear_res_adapter"
    /// `W2·GELU(W1·x + b1) + b2`, hidden width d_t.
    case adapter = "outer_adapter"
    /// `W2·GELU(W1·x + b1) + b2 + W3·x + b3`, hidden width d_t.
    case residualAdapter = "outer_res_adapter"
    /// `LN_t(W2·GELU(W1·LN_s(x) + b1) + b2)`, hidden width 2·d_t.
    case layerNormAdapter = "outer_ln_adapter"
    /// `LN_t(W2·GELU(W1·LN_s(x) + b1) + b2 + W3·x + b3)`, hidden width 2·d_t: the default, and
    /// the only type the released inference accepts.
    case layerNormResidualAdapter = "outer_ln_res_adapter"

    /// `outer_ln_res_adapter`.
    public static let `default` = OuterLinkKind.layerNormResidualAdapter

    /// The reference's alternative spellings (train/model.py `OUTER_ADAPTER_ALIASES`; there is
    /// no alias for `outer_ln_adapter`).
    public static let aliases: [String: OuterLinkKind] = [
        "1layer": .linearAdapter, "1layer_res": .linearResidualAdapter, "2layer": .adapter,
        "2layer_res": .residualAdapter, "2layer_ln_res": .layerNormResidualAdapter,
    ]

    /// The kind called `name`: a raw name or an alias.
    ///
    /// - Throws: ``LinkError/unknownKind(_:known:)`` listing every accepted spelling.
    public init(name: String) throws(LinkError) {
        guard let kind = OuterLinkKind(rawValue: name) ?? Self.aliases[name] else {
            throw .unknownKind(name, known: Self.allCases.map(\.rawValue) + Self.aliases.keys.sorted())
        }
        self = kind
    }

    /// Whether the kind normalises its input (`ln_source`) and output (`ln_target`).
    public var usesLayerNorm: Bool { self == .layerNormAdapter || self == .layerNormResidualAdapter }

    /// The network of this kind from width `inputWidth` (d_s) to `outputWidth` (d_t).
    public func layout(inputWidth: Int, outputWidth: Int) -> LinkNetwork.Layout {
        let body: LinkNetwork.Layout.Body =
            switch self {
            case .linearAdapter, .linearResidualAdapter: .linear
            case .adapter, .residualAdapter: .mlp(hiddenWidth: outputWidth)
            case .layerNormAdapter, .layerNormResidualAdapter: .mlp(hiddenWidth: 2 * outputWidth)
            }
        let residual: Bool = self == .linearResidualAdapter || self == .residualAdapter || self == .layerNormResidualAdapter
        return LinkNetwork.Layout(
            inputWidth: inputWidth, outputWidth: outputWidth, inputNorm: usesLayerNorm ? "ln_source" : nil,
            body: body, residual: residual ? .projection : .none, outputNorm: usesLayerNorm ? "ln_target" : nil)
    }
}
