// Provenance: must match llama.cpp llm_build_llama (src/models/llama.cpp) as used for SmolLM2:
// RMSNorm pre-norm blocks, adjacent-pair ("normal") RoPE, GQA, SwiGLU, output tied to the
// token embedding when `output.weight` is absent.

extension Architecture {
    /// Llama-style decoders (SmolLM2).
    public static let llama = Architecture("llama", ropePairing: .adjacent, activation: .swiGLU)
}
