// Provenance: SwiGLU = silu(gate)·up (llama, qwen2: HF LlamaMLP); GeGLU with tanh-approximate GELU
// (gemma3: HF gelu_pytorch_tanh, llama.cpp ggml_gelu) = 0.5·g·(1 + tanh(√(2/π)(g + 0.044715 g³)))·up.

/// Gated feed-forward activations: `out[i] = act(gate[i]) · up[i]` over T×F values.
public enum GatedActivation: Sendable {
    case swiGLU
    case geGLUTanh

    /// out = act(gate) ⊙ up; `out` may alias `gate`.
    public func forward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let g = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD16<Float>.self)
            let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: activate(g) * u, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            out[i] = activate(SIMD16(repeating: gate[i]))[0] * up[i]
            i += 1
        }
    }

    @inline(__always)
    func activate(_ g: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .swiGLU:
            return g / (1 + VectorMath.exp(-g))
        case .geGLUTanh:
            let inner = 0.797_884_56 * (g + 0.044_715 * g * g * g)  // √(2/π) = 0.7978845608
            return 0.5 * g * (1 + VectorMath.tanh(inner))
        }
    }
}
