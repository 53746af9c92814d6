// Provenance: GGUF tensor names as in llama.cpp src/llama-arch.cpp LLM_TENSOR_NAMES.

/// The GGUF tensor-name scheme, in one place.
enum TensorNames {
    static let tokenEmbedding = "token_embd.weight"
    static let outputNorm = "output_norm.weight"
    static let output = "output.weight"

    static func layer(_ index: Int, _ name: String) -> String { "blk.\(index).\(name)" }

    static let attentionNorm = "attn_norm.weight"
    static let query = "attn_q.weight"
    static let key = "attn_k.weight"
    static let value = "attn_v.weight"
    static let queryBias = "attn_q.bias"
    static let keyBias = "attn_k.bias"
    static let valueBias = "attn_v.bias"
    static let queryNorm = "attn_q_norm.weight"
    static let keyNorm = "attn_k_norm.weight"
    static let attentionOutput = "attn_output.weight"
    static let postAttentionNorm = "post_attention_norm.weight"
    static let ffnNorm = "ffn_norm.weight"
    static let ffnGate = "ffn_gate.weight"
    static let ffnUp = "ffn_up.weight"
    static let ffnDown = "ffn_down.weight"
    static let postFFNNorm = "post_ffw_norm.weight"
}
