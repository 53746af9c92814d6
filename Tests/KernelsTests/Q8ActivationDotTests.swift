import CKernels
import Foundation
import Kernels
import Testing

// Tests of the 8-bit-activation path (CKernels + QuantizedMatrix+Q8.swift): the activation
// quantizers against a Swift transcription of their definition (bit-exact), the integer row
// dots of every instruction-set level against a Swift reference of the same integer math
// (float-rounding tolerance), against the float dot of dequantized weights and unquantized
// activations (activation-rounding tolerance), and matvecQuantized against the row dots.

// MARK: - Tests

@Suite("8-bit activations: quantizers, integer dots, matvecQuantized")
struct Q8ActivationDotTests {
    @Test("quantizers are bit-exact with the Swift transcription of their definition, on every level",
          arguments: [GGMLType.q8_0, .q4_1, .q4_K])
    func quantizersMatchDefinition(weightType: GGMLType) {
        let activationType = GGMLType(rawValue: UInt32(rmas_activation_type(Int32(weightType.rawValue))))!
        var inputs = edgeActivations(512, seed: 3)
        inputs.append(randomActivations(512, seed: 4))
        for (c, x) in inputs.enumerated() {
            let expected = referenceQuantize(x, activationType: activationType)
            for isa in q8Levels {
                let got = cQuantize(x, for: weightType, isa: isa)
                let firstMismatch = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                #expect(got == expected,
                        "\(activationType) case \(c) level \(String(cString: rmas_isa_name(isa))): first mismatching byte \(firstMismatch.map(String.init) ?? "-")")
            }
        }
    }

    @Test("quantized activations round-trip within the derived bound", arguments: [GGMLType.q8_0, .q4_1, .q4_K])
    func quantizersRoundTrip(weightType: GGMLType) {
        let activationType = GGMLType(rawValue: UInt32(rmas_activation_type(Int32(weightType.rawValue))))!
        let blockSize = activationType == .q8_K ? 256 : 32
        var inputs = edgeActivations(512, seed: 5)
        inputs.append(randomActivations(512, seed: 6))
        for (c, x) in inputs.enumerated() {
            let blocks = cQuantize(x, for: weightType, isa: rmas_isa_best())
            let xq = dequantizeActivations(blocks, activationType: activationType, count: x.count)
            for start in stride(from: 0, to: x.count, by: blockSize) {
                let amax = Double(x[start ..< start + blockSize].reduce(Float(0)) { max($0, abs($1)) })
                let d0 = amax / 127
                // q8_K: |x − D·q| ≤ D/2 (D float32); q8_0/q8_1 add the f16 rounding of D (see
                // activationQuantizationBound).
                let e = activationType == .q8_K ? d0 / 2 * (1 + 0x1p-22) + 0x1p-22 * amax
                    : d0 / 2 + 127 * max(0x1p-11 * d0, 0x1p-25) + 0x1p-22 * amax
                for i in start ..< start + blockSize {
                    #expect(abs(Double(x[i]) - xq[i]) <= e, "\(activationType) case \(c) element \(i): \(x[i]) → \(xq[i]), bound \(e)")
                }
            }
        }
    }

    @Test("row dots equal the Swift integer reference (float32-rounding tolerance), on every level",
          arguments: q8WeightTypes)
    func dotsMatchIntegerReference(type: GGMLType) throws {
        let rows = 6
        for columns in type.blockSize == 256 ? [256, 256 * 7, 4864] : [32, 32 * 19, 576, 1536] {
            let bytes = q8TestMatrixBytes(type, rows: rows, columns: columns, seed: 700 + UInt64(columns))
            let rowBytes = columns / type.blockSize * type.bytesPerBlock
            var inputs = edgeActivations(columns % 256 == 0 ? columns : columns * 8, seed: 8).map { Array($0[..<columns]) }
            inputs.append(randomActivations(columns, seed: 9))
            for (c, x) in inputs.enumerated() {
                let blocks = cQuantize(x, for: type, isa: rmas_isa_best())
                bytes.withUnsafeBytes { w in
                    blocks.withUnsafeBytes { xq in
                        for r in 0 ..< rows {
                            let row = w.baseAddress! + r * rowBytes
                            let ref = referenceIntegerDot(type, row: row, activations: xq.baseAddress!, count: columns)
                            let bound = integerDotBound(blocks: columns / 32, magnitude: ref.magnitude)
                            for isa in q8Levels {
                                let got = Double(cDot(type, isa: isa, row: row, activations: xq.baseAddress!, columns: columns))
                                #expect(abs(got - ref.value) <= bound,
                                        "\(type) \(columns) cols, input \(c), row \(r), level \(String(cString: rmas_isa_name(isa))): \(got) vs \(ref.value), bound \(bound)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("row dots are within the activation-rounding bound of the float dot", arguments: q8WeightTypes)
    func dotsMatchFloatDot(type: GGMLType) throws {
        let rows = 5
        let activationType = GGMLType(rawValue: UInt32(rmas_activation_type(Int32(type.rawValue))))!
        for columns in type.blockSize == 256 ? [256 * 3, 4864] : [32 * 19, 1536] {
            let bytes = q8TestMatrixBytes(type, rows: rows, columns: columns, seed: 900 + UInt64(columns))
            let rowBytes = columns / type.blockSize * type.bytesPerBlock
            var inputs = [randomActivations(columns, seed: 10)]
            inputs.append(randomActivations(columns, seed: 11).enumerated().map { $0.offset % 97 == 0 ? 8 * $0.element : $0.element })
            try bytes.withUnsafeBytes { raw in
                let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: rows, columns: columns)
                let w = referenceDequantize(type, bytes: raw, rows: rows, columns: columns)
                for (c, x) in inputs.enumerated() {
                    let blocks = cQuantize(x, for: type, isa: rmas_isa_best())
                    blocks.withUnsafeBytes { xq in
                        for r in 0 ..< rows {
                            let weights = w[r * columns ..< (r + 1) * columns]
                            var exact = 0.0, magnitude = 0.0
                            for (i, weight) in weights.enumerated() {
                                exact += Double(weight) * Double(x[i])
                                magnitude += abs(Double(weight) * Double(x[i]))
                            }
                            let ref = referenceIntegerDot(type, row: matrix.rowPointer(r), activations: xq.baseAddress!, count: columns)
                            let bound = activationQuantizationBound(
                                weights: weights, x: x, activationType: activationType,
                                affineMins: affineMins(type, row: matrix.rowPointer(r), columns: columns))
                                + integerDotBound(blocks: columns / 32, magnitude: ref.magnitude) + 0x1p-21 * magnitude
                            for isa in q8Levels {
                                let got = Double(cDot(type, isa: isa, row: matrix.rowPointer(r), activations: xq.baseAddress!, columns: columns))
                                #expect(abs(got - exact) <= bound,
                                        "\(type) input \(c) row \(r) level \(isa): \(got) vs float dot \(exact), bound \(bound)")
                            }
                            _ = rowBytes
                        }
                    }
                }
            }
        }
    }

    @Test("named C row dots equal rmas_gemv of one row", arguments: q8WeightTypes)
    func namedDotsMatchGemv(type: GGMLType) {
        let columns = type.blockSize == 256 ? 512 : 96
        let bytes = q8TestMatrixBytes(type, rows: 1, columns: columns, seed: 12)
        let blocks = cQuantize(randomActivations(columns, seed: 13), for: type, isa: rmas_isa_best())
        bytes.withUnsafeBytes { w in
            blocks.withUnsafeBytes { xq in
                let named: (Int32, UnsafeRawPointer?, UnsafeRawPointer?) -> Float = switch type {
                case .q8_0: rmas_dot_q8_0_q8_0
                case .q4_0: rmas_dot_q4_0_q8_0
                case .q4_1: rmas_dot_q4_1_q8_1
                case .q5_0: rmas_dot_q5_0_q8_0
                case .q5_1: rmas_dot_q5_1_q8_1
                case .q4_K: rmas_dot_q4_K_q8_K
                case .q5_K: rmas_dot_q5_K_q8_K
                default: rmas_dot_q6_K_q8_K
                }
                let viaGemv = cDot(type, isa: rmas_isa_best(), row: w.baseAddress!, activations: xq.baseAddress!, columns: columns)
                #expect(named(Int32(columns), w.baseAddress, xq.baseAddress).bitPattern == viaGemv.bitPattern)
            }
        }
    }

    @Test("matvecQuantized equals per-row dots for awkward row and thread counts", arguments: q8WeightTypes)
    func matvecMatchesRowDots(type: GGMLType) throws {
        let columns = type.blockSize == 256 ? 512 : 96
        let x = randomActivations(columns, seed: 14)
        for rows in [1, 3, 7, 33] {
            let bytes = q8TestMatrixBytes(type, rows: rows, columns: columns, seed: 15 + UInt64(rows))
            try bytes.withUnsafeBytes { raw in
                let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: rows, columns: columns)
                #expect(matrix.supportsQuantizedActivations)
                var scratch = [UInt8](repeating: 0, count: matrix.quantizedActivationByteCount)
                x.withUnsafeBufferPointer { xs in
                    scratch.withUnsafeMutableBytes { matrix.quantizeActivations(xs, into: $0) }
                    let perRow = scratch.withUnsafeBytes { xq in (0 ..< rows).map { matrix.dotQuantized(row: $0, activations: xq) } }
                    for threads in [1, 2, 3] {
                        for threading in [QuantizedMatvecThreading.helperThreads, .dispatch] {
                            // minimumBytesPerThread 1 forces the split even for these small matrices.
                            var y = [Float](repeating: .nan, count: rows + 1)
                            y.withUnsafeMutableBufferPointer { ys in
                                scratch.withUnsafeBytes { xq in
                                    matrix.matvecQuantized(
                                        activations: xq, y: ys, threads: threads, threading: threading, minimumBytesPerThread: 1)
                                }
                            }
                            #expect(y[..<rows].map(\.bitPattern) == perRow.map(\.bitPattern),
                                    "\(type) rows \(rows) threads \(threads) \(threading)")
                            #expect(y[rows].isNaN, "matvecQuantized wrote past y[rows - 1]")
                        }
                        // The convenience overload quantizes x itself; same values.
                        var y2 = [Float](repeating: .nan, count: rows)
                        y2.withUnsafeMutableBufferPointer { matrix.matvecQuantized(x: xs, y: $0, threads: threads) }
                        #expect(y2.map(\.bitPattern) == perRow.map(\.bitPattern), "\(type) rows \(rows) threads \(threads) (x overload)")
                    }
                }
            }
        }
    }

    @Test("concurrent matvecQuantized calls on the helper threads give the per-row dots")
    func concurrentCallers() throws {
        let (rows, columns) = (133, 576)
        let bytes = q8TestMatrixBytes(.q4_1, rows: rows, columns: columns, seed: 77)
        try bytes.withUnsafeBytes { raw in
            let matrix = try QuantizedMatrix(bytes: raw, type: .q4_1, rows: rows, columns: columns)
            let inputs = (0 ..< 8).map { randomActivations(columns, seed: 100 + UInt64($0)) }
            let expected = inputs.map { x in
                var y = [Float](repeating: 0, count: rows)
                x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { matrix.matvecQuantized(x: xs, y: $0, threads: 1) } }
                return y
            }
            // Eight callers at once: one owns the helper threads at a time, the rest run alone.
            let results = UnsafeMutablePointer<Float>.allocate(capacity: 8 * rows)
            defer { results.deallocate() }
            nonisolated(unsafe) let out = results  // each iteration writes only its own row range
            DispatchQueue.concurrentPerform(iterations: 8) { i in
                for _ in 0 ..< 50 {
                    inputs[i].withUnsafeBufferPointer { xs in
                        matrix.matvecQuantized(
                            x: xs, y: UnsafeMutableBufferPointer(start: out + i * rows, count: rows), threads: 2,
                            threading: .helperThreads, minimumBytesPerThread: 1)
                    }
                }
            }
            for i in 0 ..< 8 {
                #expect(Array(UnsafeBufferPointer(start: results + i * rows, count: rows)).map(\.bitPattern)
                        == expected[i].map(\.bitPattern), "caller \(i)")
            }
        }
    }

    @Test("float formats do not take 8-bit activations")
    func floatFormatsUnsupported() throws {
        let bytes = [UInt8](repeating: 0, count: 4 * 32)
        try bytes.withUnsafeBytes { raw in
            for type in [GGMLType.f32, .f16, .bf16] {
                let matrix = try QuantizedMatrix(bytes: raw, type: type, rows: 1, columns: 32)
                #expect(!matrix.supportsQuantizedActivations)
                #expect(matrix.quantizedActivationByteCount == 0)
            }
        }
    }
}
