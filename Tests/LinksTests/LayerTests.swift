// Reference: the standard normal CDF Φ at 1 and 3 (Abramowitz & Stegun table 26.1), the
// definitions of GELU and LayerNorm evaluated in Double.
import Foundation
import Kernels
import Links
import Testing
import Training

@Suite("Link layers")
struct LayerTests {
    @Test("exact GELU: x·Φ(x) at tabulated points, slope ½ at 0 and → 1, 0 in the tails")
    func geluValues() {
        // Φ(1) = 0.841344746068543, Φ(3) = 0.998650101968370.
        let x: [Float] = [0, 1, -1, 3, -3]
        let expected: [Double] = [0, 0.841344746068543, -(1 - 0.841344746068543), 3 * 0.998650101968370,
                                  -3 * (1 - 0.998650101968370)]
        for (value, reference) in zip(GELU.forward(x), expected) {
            #expect(abs(Double(value) - reference) <= 2e-7 * max(1, abs(reference)), "\(value) vs \(reference)")
        }
        let slopes = GELU.backward(input: [0, 12, -12], outputGradient: [1, 1, 1])
        #expect(slopes[0] == 0.5 && slopes[1] == 1)
        #expect(abs(slopes[2]) < 1e-30)  // Φ(−12) − 12·φ(−12) ≈ −2.6e-31
    }

    @Test("LayerNorm keeps precision on rows with a large common offset")
    func layerNormOffset() throws {
        var generator = SplitMix64(seed: 4)
        let (rows, width) = (3, 37)
        let norm = LayerNorm(name: "ln", width: width)
        perturbLayerNorms(try ParameterSet([norm.weight, norm.bias]), using: &generator)
        let x = gaussians(rows * width, using: &generator).map { 1000 + 0.1 * $0 }
        let (y, _) = norm.forward(x, rows: rows)
        var reference = [Double](repeating: 0, count: rows * width)
        for r in 0..<rows {
            let row = x[(r * width)..<((r + 1) * width)].map(Double.init)
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
            for i in 0..<width {
                reference[r * width + i] = (row[i] - mean) / (variance + 1e-5).squareRoot()
                    * Double(norm.weight.values[i]) + Double(norm.bias.values[i])
            }
        }
        let deviation = normwiseDeviation(y, reference)
        #expect(deviation <= 1e-6, "deviation \(deviation)")
    }
}
