// Provenance: the per-family switches of llama.cpp's graph builders (src/models/*.cpp) and
// llama_model_rope_type, expressed as data; each family's values live in its own file.
import Kernels

/// A transformer family this engine runs, named as in `general.architecture`, and everything
/// that distinguishes it from a plain pre-norm decoder.
///
/// The forward and backward passes read only these traits, never the name, so a new family is
/// one file defining its traits plus one line in ``registry``.
public struct Architecture: Sendable, Hashable, CustomStringConvertible {
    /// How RoPE pairs the dimensions of a head.
    public enum RoPEPairing: Sendable { case adjacent, halfSplit }

    /// Layers that attend over a sliding window of keys.
    public struct SlidingWindowLayers: Sendable {
        /// Every `globalPeriod`-th layer (1-based) is global; the others use the window.
        public let globalPeriod: Int
        /// The RoPE base of the windowed layers (global layers use `rope.freq_base`).
        public let ropeBase: Float
    }

    /// The `general.architecture` value.
    public let rawValue: String
    public let ropePairing: RoPEPairing
    /// Token embeddings are multiplied by √D before the first layer.
    public let scalesEmbeddingsBySqrtWidth: Bool
    /// Q, K and V projections carry biases.
    public let hasAttentionBiases: Bool
    /// Per-head RMSNorm of queries and keys before RoPE.
    public let hasQueryKeyNorms: Bool
    /// RMSNorm on the attention output and on the FFN output before each residual add.
    public let hasPostNorms: Bool
    public let activation: GatedActivation
    /// Present when some layers use a sliding window (its length comes from metadata).
    public let slidingWindowLayers: SlidingWindowLayers?

    /// Every family the engine runs.
    public static let registry: [Architecture] = [.llama, .qwen2, .gemma3]

    /// The registered family named `rawValue`, or nil.
    public init?(rawValue: String) {
        guard let found = Self.registry.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = found
    }

    init(
        _ rawValue: String, ropePairing: RoPEPairing, scalesEmbeddingsBySqrtWidth: Bool = false,
        hasAttentionBiases: Bool = false, hasQueryKeyNorms: Bool = false, hasPostNorms: Bool = false,
        activation: GatedActivation, slidingWindowLayers: SlidingWindowLayers? = nil
    ) {
        self.rawValue = rawValue
        self.ropePairing = ropePairing
        self.scalesEmbeddingsBySqrtWidth = scalesEmbeddingsBySqrtWidth
        self.hasAttentionBiases = hasAttentionBiases
        self.hasQueryKeyNorms = hasQueryKeyNorms
        self.hasPostNorms = hasPostNorms
        self.activation = activation
        self.slidingWindowLayers = slidingWindowLayers
    }

    public var description: String { rawValue }
    public static func == (a: Architecture, b: Architecture) -> Bool { a.rawValue == b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}
