// Provenance: rotary position embedding as llama.cpp ggml_rope_ext without scaling:
// θ_i = p · base^(−2i/n) for pair i < n/2. Pairing follows llama_model_rope_type: llama rotates
// adjacent pairs (x[2i], x[2i+1]) ("normal"); qwen2 and gemma3 rotate (x[i], x[i + n/2]) ("NeoX").

/// cos/sin of θ for a set of positions, computed once per forward and shared by every layer.
public struct RoPETable: Sendable {
    public enum Pairing: Sendable { case adjacent, halfSplit }

    public let pairing: Pairing
    /// Rotated dimensions per head (n); the rest of the head passes through.
    public let dimensions: Int
    /// `[T × n/2]` each.
    let cosines: [Float]
    let sines: [Float]

    public init(positions: some Collection<Int>, dimensions: Int, base: Float, pairing: Pairing) {
        precondition(dimensions % 2 == 0, "RoPE needs an even number of rotated dimensions")
        self.pairing = pairing
        self.dimensions = dimensions
        let half = dimensions / 2
        var cosines = [Float](), sines = [Float]()
        cosines.reserveCapacity(positions.count * half)
        sines.reserveCapacity(positions.count * half)
        // Frequencies and angles in Double: the angle p·θ_i loses digits in Float at long contexts.
        let inverseFrequencies = (0..<half).map { Foundation.pow(Double(base), -2 * Double($0) / Double(dimensions)) }
        for p in positions {
            for f in inverseFrequencies {
                let angle = Double(p) * f
                cosines.append(Float(Foundation.cos(angle)))
                sines.append(Float(Foundation.sin(angle)))
            }
        }
        self.cosines = cosines
        self.sines = sines
    }

    /// Rotates `x` `[T × heads × headDim]` in place; row t uses the table's t-th position.
    public func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int) {
        rotate(x, rows: rows, heads: heads, headDim: headDim, direction: 1)
    }

    /// Backward of ``apply(_:rows:heads:headDim:)``: a rotation's gradient is the inverse
    /// rotation (by −θ), applied in place to `dx` `[T × heads × headDim]`.
    public func applyBackward(_ dx: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int) {
        rotate(dx, rows: rows, heads: heads, headDim: headDim, direction: -1)
    }

    private func rotate(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, direction: Float) {
        precondition(dimensions <= headDim && rows * (dimensions / 2) <= cosines.count)
        let half = dimensions / 2
        cosines.withUnsafeBufferPointer { cosTable in
            sines.withUnsafeBufferPointer { sinTable in
                for t in 0..<rows {
                    let c = cosTable.baseAddress! + t * half, s = sinTable.baseAddress! + t * half
                    for h in 0..<heads {
                        let v = x + (t * heads + h) * headDim
                        switch pairing {
                        case .adjacent:
                            for i in 0..<half {
                                let a = v[2 * i], b = v[2 * i + 1], sine = direction * s[i]
                                v[2 * i] = a * c[i] - b * sine
                                v[2 * i + 1] = a * sine + b * c[i]
                            }
                        case .halfSplit:
                            for i in 0..<half {
                                let a = v[i], b = v[i + half], sine = direction * s[i]
                                v[i] = a * c[i] - b * sine
                                v[i + half] = a * sine + b * c[i]
                            }
                        }
                    }
                }
            }
        }
    }
}

import Foundation
