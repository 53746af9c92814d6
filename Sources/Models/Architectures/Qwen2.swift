// Provenance: must match llama.cpp llm_build_qwen2 (src/models/qwen2.cpp): llama blocks plus
// biases on the Q, K and V projections and NeoX-style (half-split) RoPE; untied output head.

extension Architecture {
    /// Qwen2 / Qwen2.5 decoders.
    public static let qwen2 = Architecture("qwen2", ropePairing: .halfSplit, hasAttentionBiases: true, activation: .swiGLU)
}
