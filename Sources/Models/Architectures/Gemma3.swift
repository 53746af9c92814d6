// Provenance: must match llama.cpp llm_build_gemma3 (src/models/gemma3.cpp): embeddings × √D,
// norm weights used as stored in the GGUF (the converter already added Gemma's +1), q/k RMSNorm,
// post-attention and post-FFN norms, GeGLU with tanh GELU, 5-of-6 sliding-window layers whose
// RoPE base is 10000 (hard-coded in llama.cpp, not in the GGUF), attention scale 1/√key_length.

extension Architecture {
    /// Gemma-3 text decoders.
    public static let gemma3 = Architecture(
        "gemma3", ropePairing: .halfSplit, scalesEmbeddingsBySqrtWidth: true, hasQueryKeyNorms: true,
        hasPostNorms: true, activation: .geGLUTanh,
        slidingWindowLayers: SlidingWindowLayers(globalPeriod: 6, ropeBase: 10_000))
}
