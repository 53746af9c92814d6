import Kernels
import Testing

/// Error bound for the kernels' float32 dot, relative to `Σ|w_i·x_i|`.
///
/// The kernels decode weights bit-exactly (checked by the dequantization tests); every format's
/// weight is `scale·q` (+ offset) with the product exact in float32, so the only error is
/// accumulation. A term goes through at most 3 roundings before it reaches an accumulator
/// (single-scale formats form `(q0·x0 + q1·x1)·d` per 32 elements; the others one FMA), each
/// of the 4 × 16 accumulator lanes takes at most ⌈n/64⌉ + 3 terms (the element formats put
/// their 16-wide tail into chain 0), the chains and lanes are reduced in 2 + 4 levels, and a
/// scalar tail of < 16 terms is added last. So every term passes through at most
/// k = ⌈n/64⌉ + 16 roundings (3 + 3 + 6 + 1, rounded up), and by the standard bound (Higham,
/// Accuracy and Stability of Numerical Algorithms, §3.1) |dot − exact| ≤ γ_k Σ|w_i·x_i| with
/// γ_k = k·u / (1 − k·u), u = 2⁻²⁴. An absolute floor of n × the smallest subnormal covers
/// terms that underflow.
func dotErrorBound(columns n: Int, magnitudeSum: Double) -> Double {
    let u = Double(Float.ulpOfOne) / 2
    let k = Double((n + 63) / 64 + 16)
    return k * u / (1 - k * u) * magnitudeSum + Double(n) * Double(Float.leastNonzeroMagnitude)
}

/// Checks `matrix.dot(row:with:)` for every row against the Float64 dot of the scalar
/// reference's weights.
func checkDots(_ matrix: QuantizedMatrix, reference w: [Float], x: [Float], label: String) {
    x.withUnsafeBufferPointer { xs in
        for r in 0 ..< matrix.rows {
            var exact = 0.0, magnitude = 0.0
            for c in 0 ..< matrix.columns {
                let term = Double(w[r * matrix.columns + c]) * Double(x[c])
                exact += term
                magnitude += abs(term)
            }
            let got = Double(matrix.dot(row: r, with: xs))
            let bound = dotErrorBound(columns: matrix.columns, magnitudeSum: magnitude)
            #expect(abs(got - exact) <= bound, "\(label) row \(r): dot \(got), exact \(exact), bound \(bound)")
        }
    }
}

@Suite("Dot products and matvec")
struct QuantDotTests {
    @Test("dot matches the Float64 dot of the reference weights (random rows)", arguments: supportedTypes)
    func dotRandom(type: GGMLType) throws {
        let rows = 5
        for columns in [type.blockSize == 1 ? 1043 : type.blockSize * (type.blockSize == 256 ? 7 : 57), 4096] {
            let bytes = randomMatrixBytes(type, rows: rows, columns: columns, seed: 100 + UInt64(columns))
            let x = randomActivations(columns, seed: 5)
            try bytes.withUnsafeBytes { raw in
                let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: rows, columns: columns)
                let w = referenceDequantize(type, bytes: raw, rows: rows, columns: columns)
                checkDots(matrix, reference: w, x: x, label: "\(type) \(rows)×\(columns)")
            }
        }
    }

    @Test("dot matches the Float64 dot of gguf-py's weights (golden rows with finite weights)", arguments: supportedTypes)
    func dotGolden(type: GGMLType) throws {
        let golden = try QuantGolden(type)
        let matrix = try golden.matrix()
        let x = randomActivations(golden.columns, seed: 11)
        var finiteRows = 0
        x.withUnsafeBufferPointer { xs in
            for r in 0 ..< golden.rows {
                let w = golden.expected[r * golden.columns ..< (r + 1) * golden.columns]
                guard w.allSatisfy(\.isFinite) else { continue }  // f32/f16/bf16 edge rows hold Inf/NaN
                finiteRows += 1
                var exact = 0.0, magnitude = 0.0
                for (c, weight) in w.enumerated() {
                    exact += Double(weight) * Double(x[c])
                    magnitude += abs(Double(weight) * Double(x[c]))
                }
                let got = Double(matrix.dot(row: r, with: xs))
                let bound = dotErrorBound(columns: golden.columns, magnitudeSum: magnitude)
                #expect(abs(got - exact) <= bound, "\(type) golden row \(r): dot \(got), exact \(exact), bound \(bound)")
            }
        }
        #expect(finiteRows >= golden.rows - 1)
    }

    @Test("dot with an all-zero row is exactly zero", arguments: supportedTypes)
    func zeroRow(type: GGMLType) throws {
        let columns = type.blockSize == 1 ? 100 : 2 * type.blockSize
        let bytes = [UInt8](repeating: 0, count: type.byteCount(elements: columns) ?? 0)
        let x = randomActivations(columns, seed: 3)
        try bytes.withUnsafeBytes { raw in
            let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: 1, columns: columns)
            x.withUnsafeBufferPointer { xs in #expect(matrix.dot(row: 0, with: xs) == 0) }
        }
    }

    @Test("matvec equals per-row dot for awkward row counts and thread counts", arguments: supportedTypes)
    func matvecMatchesDot(type: GGMLType) throws {
        let columns = type.blockSize == 1 ? 200 : 2 * type.blockSize
        let x = randomActivations(columns, seed: 9)
        for rows in [1, 3, 7, 33] {
            let bytes = randomMatrixBytes(type, rows: rows, columns: columns, seed: UInt64(rows))
            try bytes.withUnsafeBytes { raw in
                let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: rows, columns: columns)
                x.withUnsafeBufferPointer { xs in
                    let perRow = (0 ..< rows).map { matrix.dot(row: $0, with: xs) }
                    for threads in [1, 2, 3] {
                        // minimumBytesPerThread 0 forces the split even for these small matrices.
                        var y = [Float](repeating: .nan, count: rows + 1)
                        y.withUnsafeMutableBufferPointer { ys in
                            matrix.matvec(x: xs, y: ys, threads: threads, minimumBytesPerThread: 0)
                        }
                        #expect(y[..<rows].map(\.bitPattern) == perRow.map(\.bitPattern),
                                "\(type) rows \(rows) threads \(threads)")
                        #expect(y[rows].isNaN, "matvec wrote past y[rows - 1]")
                    }
                }
            }
        }
    }

    @Test("matvec with the default split equals per-row dot on a larger matrix")
    func matvecDefaultSplit() throws {
        let (rows, columns) = (257, 1024)  // 257 × 1088 B ≈ 273 KiB: split across 2 threads
        let bytes = randomMatrixBytes(.q8_0, rows: rows, columns: columns, seed: 42)
        let x = randomActivations(columns, seed: 43)
        try bytes.withUnsafeBytes { raw in
            let matrix = try QuantizedMatrix(bytes: raw, type: .q8_0, rows: rows, columns: columns)
            x.withUnsafeBufferPointer { xs in
                var y = [Float](repeating: .nan, count: rows)
                y.withUnsafeMutableBufferPointer { matrix.matvec(x: xs, y: $0) }
                #expect(y.map(\.bitPattern) == (0 ..< rows).map { matrix.dot(row: $0, with: xs).bitPattern })
            }
        }
    }
}
