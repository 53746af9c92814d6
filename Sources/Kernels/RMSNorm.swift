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
