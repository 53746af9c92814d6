// Provenance: SwiGLU = silu(gate)·up (llama, qwen2: HF LlamaMLP); GeGLU with tanh-approximate GELU
// (gemma3: HF gelu_pytorch_tanh, llama.cpp ggml_gelu) = 0.5·g·(1 + tanh(√(2/π)(g + 0.044715 g³)))·up.

/// Gated feed-forward activations: `out[i] = act(gate[i]) · up[i]` over T×F values.
public enum GatedActivation: Sendable {
    case swiGLU
    case geGLUTanh

    /// out = act(gate) ⊙ up; `out` may alias `gate`. Spread over `threads` when large.
    public func forward(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1
    ) {
        nonisolated(unsafe) let (gate, up, out) = (gate, up, out)  // disjoint ranges
        Parallel.forEachSpan(count: count, threads: threads) { range in
            forwardSpan(gate: gate + range.lowerBound, up: up + range.lowerBound, out: out + range.lowerBound, count: range.count)
        }
    }

    private func forwardSpan(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) {
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

    /// Backward of ``forward(gate:up:out:count:)``: `dGate = dOut ⊙ up ⊙ act′(gate)`,
    /// `dUp = dOut ⊙ act(gate)`. `dGate` may alias `gate`, `dUp` may alias `up`.
    public func backward(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, dOut: UnsafePointer<Float>,
        dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1
    ) {
        nonisolated(unsafe) let (gate, up, dOut, dGate, dUp) = (gate, up, dOut, dGate, dUp)  // disjoint ranges
        Parallel.forEachSpan(count: count, threads: threads) { r in
            let o = r.lowerBound
            backwardSpan(gate: gate + o, up: up + o, dOut: dOut + o, dGate: dGate + o, dUp: dUp + o, count: r.count)
        }
    }

    private func backwardSpan(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, dOut: UnsafePointer<Float>,
        dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self) }
        while i + 16 <= count {
            let g = load(gate), u = load(up), d = load(dOut)
            let (value, slope) = activateWithSlope(g)
            UnsafeMutableRawPointer(dGate + i).storeBytes(of: d * u * slope, as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(dUp + i).storeBytes(of: d * value, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            let (value, slope) = activateWithSlope(SIMD16(repeating: gate[i]))
            let d = dOut[i], u = up[i]
            dGate[i] = d * u * slope[0]
            dUp[i] = d * value[0]
            i += 1
        }
    }

    /// act(g) and act′(g).
    @inline(__always)
    func activateWithSlope(_ g: SIMD16<Float>) -> (SIMD16<Float>, SIMD16<Float>) {
        switch self {
        case .swiGLU:
            let sigmoid = 1 / (1 + VectorMath.exp(-g))
            return (g * sigmoid, sigmoid * (1 + g * (1 - sigmoid)))
        case .geGLUTanh:
            let k = SIMD16<Float>(repeating: 0.797_884_56), c = SIMD16<Float>(repeating: 0.044_715)
            let g2: SIMD16<Float> = g * g
            let t: SIMD16<Float> = VectorMath.tanh(k * (g + c * g2 * g))
            let half: SIMD16<Float> = 0.5 * (1 + t)
            let inner: SIMD16<Float> = k * (1 + 3 * c * g2)
            let slope: SIMD16<Float> = half + 0.5 * g * (1 - t * t) * inner
            return (g * half, slope)
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
