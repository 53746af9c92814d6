// Provenance: RMSNorm as in llama.cpp ggml_rms_norm followed by ggml_mul with the weight
// (y = x / sqrt(mean(x²) + eps) · w); Gemma's weights already include the +1 in its GGUF.

/// Root-mean-square normalisation over rows of length D.
public enum RMSNorm {
    /// `y[t] = x[t] / rms(x[t]) ⊙ weight` for T rows of length D; `y` may alias `x`.
    public static func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        rows: Int, width: Int, epsilon: Float
    ) {
        for t in 0..<rows {
            let row = x + t * width, out = y + t * width
            let scale = 1 / (meanSquare(row, width) + epsilon).squareRoot()
            var i = 0
            while i + 16 <= width {
                let v = UnsafeRawPointer(row + i).loadUnaligned(as: SIMD16<Float>.self)
                let w = UnsafeRawPointer(weight + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(out + i).storeBytes(of: v * scale * w, as: SIMD16<Float>.self)
                i += 16
            }
            while i < width {
                out[i] = row[i] * scale * weight[i]
                i += 1
            }
        }
    }

    /// Gradient with respect to x of ``forward(x:weight:y:rows:width:epsilon:)`` (the weight is
    /// frozen): with r = 1/√(mean(x²) + ε) and g = w ⊙ dy,
    /// `dx = r·g − x · r³/D · Σ(g ⊙ x)`, written to `dx` or added to it when `accumulate`.
    /// `dx` may alias `dy` (not `x`).
    public static func backward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, rows: Int, width: Int, epsilon: Float, accumulate: Bool = false
    ) {
        for t in 0..<rows {
            let row = x + t * width, grad = dy + t * width, out = dx + t * width
            let r = 1 / (meanSquare(row, width) + epsilon).squareRoot()
            var projection: Double = 0  // Σ w·dy·x
            for i in 0..<width { projection += Double(weight[i] * grad[i] * row[i]) }
            let c = Float(projection) * r * r * r / Float(width)
            for i in 0..<width {
                let value = r * weight[i] * grad[i] - c * row[i]
                out[i] = accumulate ? out[i] + value : value
            }
        }
    }

    /// mean(x²), accumulated in Double as ggml does, so long rows do not lose precision.
    @inline(__always)
    static func meanSquare(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var acc = SIMD16<Float>()
        var total: Double = 0
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            acc.addProduct(v, v)
            i += 16
            if i % 256 == 0 {
                total += Double(acc.sum())
                acc = .zero
            }
        }
        total += Double(acc.sum())
        while i < count {
            total += Double(x[i] * x[i])
            i += 1
        }
        return Float(total / Double(count))
    }
}
