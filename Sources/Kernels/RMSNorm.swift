// Provenance: RMSNorm as in llama.cpp ggml_rms_norm followed by ggml_mul with the weight
// (y = x / sqrt(mean(x²) + eps) · w); Gemma's weights already include the +1 in its GGUF.

/// Root-mean-square normalisation over rows of length D.
public enum RMSNorm {
    /// `y[t] = x[t] / rms(x[t]) ⊙ weight` for T rows of length D; `y` may alias `x`. Rows are
    /// spread over `threads` when there are enough of them.
    public static func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        rows: Int, width: Int, epsilon: Float, threads: Int = 1
    ) {
        nonisolated(unsafe) let (x, weight, y) = (x, weight, y)  // rows are disjoint
        Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: Parallel.minimumRows(width: width)) { range in
            for t in range { forwardRow(x + t * width, weight: weight, y + t * width, width: width, epsilon: epsilon) }
        }
    }

    @inline(__always)
    static func forwardRow(_ row: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, width: Int, epsilon: Float) {
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

    /// Gradient with respect to x of ``forward(x:weight:y:rows:width:epsilon:threads:)`` (the
    /// weight is frozen): with r = 1/√(mean(x²) + ε) and g = w ⊙ dy,
    /// `dx = r·g − x · r³/D · Σ(g ⊙ x)`, written to `dx` or added to it when `accumulate`.
    /// `dx` may alias `dy` (not `x`).
    public static func backward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, rows: Int, width: Int, epsilon: Float, accumulate: Bool = false,
        threads: Int = 1
    ) {
        nonisolated(unsafe) let (x, weight, dy, dx) = (x, weight, dy, dx)  // rows are disjoint
        Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: Parallel.minimumRows(width: width)) { range in
            for t in range {
                backwardRow(x + t * width, weight: weight, dy + t * width, dx + t * width, width: width, epsilon: epsilon,
                            accumulate: accumulate)
            }
        }
    }

    @inline(__always)
    static func backwardRow(
        _ row: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ grad: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, width: Int, epsilon: Float, accumulate: Bool
    ) {
        @inline(__always) func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
            UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
        }
        let r = 1 / (meanSquare(row, width) + epsilon).squareRoot()
        // Σ w·dy·x: 16 lanes, flushed into a Double every 256 elements (as meanSquare).
        var lanes = SIMD16<Float>()
        var projection: Double = 0
        var i = 0
        while i + 16 <= width {
            lanes.addProduct(load(weight, i) * load(grad, i), load(row, i))
            i += 16
            if i % 256 == 0 {
                projection += Double(lanes.sum())
                lanes = .zero
            }
        }
        projection += Double(lanes.sum())
        while i < width {
            projection += Double(weight[i] * grad[i] * row[i])
            i += 1
        }
        let c = Float(projection) * r * r * r / Float(width)
        i = 0
        while i + 16 <= width {
            var value = r * load(weight, i) * load(grad, i) - c * load(row, i)
            if accumulate { value += load(UnsafePointer(out), i) }
            UnsafeMutableRawPointer(out + i).storeBytes(of: value, as: SIMD16<Float>.self)
            i += 16
        }
        while i < width {
            let value = r * weight[i] * grad[i] - c * row[i]
            out[i] = accumulate ? out[i] + value : value
            i += 1
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
