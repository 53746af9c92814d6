// Several activation vectors against one weight matrix (a batch of decode or latent steps of
// different sequences): the weights stream from memory once for the whole batch, and each
// vector's result is bit-for-bit the single-vector product's, so batching never changes an answer.

import CKernels

extension QuantizedMatrix {
    /// `y_v[r] = Σ_c W[r, c] · x_v[c]` for each vector v: `x[v]` holds `columns` floats, `y[v]`
    /// `rows` floats. Tiles of rows small enough for L1 are dotted with every vector in turn.
    /// Each `y_v` equals ``matvec(x:y:threads:minimumBytesPerThread:)`` of `x_v` alone, whatever
    /// the split.
    public func matvec(
        vectors x: [UnsafePointer<Float>], outputs y: [UnsafeMutablePointer<Float>],
        threads: Int = Parallel.defaultThreadCount
    ) {
        precondition(x.count == y.count, "\(x.count) input vectors, \(y.count) outputs")
        guard rows > 0, !x.isEmpty else { return }
        vectorRows(format, x: x, y: y, threads: threads)
    }

    private func vectorRows<Format: QuantFormat>(
        _: Format.Type, x: [UnsafePointer<Float>], y: [UnsafeMutablePointer<Float>], threads: Int
    ) {
        nonisolated(unsafe) let (x, y) = (x, y)  // inputs only read; each worker writes its own rows
        let tile = max(1, 16_384 / rowBytes)
        let minimumRows = max(tile, QuantizedMatrix.defaultMinimumBytesPerThread / max(1, rowBytes * x.count))
        // Formats with a C fp32 kernel (AVX-512): each row decoded once for several vectors (the same bits).
        let shared = x.count > 1 && rmas_dot_f32_supported(Int32(type.rawValue)) != 0
        nonisolated(unsafe) let (xs, ys) = shared ? (x.map { Optional($0) }, y.map { Optional($0) }) : ([], [])
        Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: minimumRows) { range in
            var first = range.lowerBound
            while first < range.upperBound {
                let end = min(range.upperBound, first + tile)
                if shared {
                    let status = xs.withUnsafeBufferPointer { xp in
                        ys.withUnsafeBufferPointer { yp in
                            rmas_dot_f32_rows(Int32(self.type.rawValue), Int32(self.columns), self.base, self.rowBytes, Int64(first),
                                              Int64(end), xp.baseAddress, yp.baseAddress, Int32(x.count))
                        }
                    }
                    precondition(status == 0, "rmas_dot_f32_rows rejected \(self.type)")
                    first = end
                    continue
                }
                for v in 0..<x.count {
                    let input = x[v], output = y[v]
                    for row in first..<end { output[row] = Format.dot(self.base + row * self.rowBytes, input, count: self.columns) }
                }
                first = end
            }
        }
    }

    /// `y_v[r] = Σ_c W[r, c] · x̃_v[c]` for each vector v, where `activations[v]` holds x_v as
    /// quantized by ``quantizeActivations(_:into:)`` and `y[v]` receives `rows` floats. Each
    /// `y_v` equals ``matvecQuantized(activations:y:threads:threading:minimumBytesPerThread:)``
    /// of that vector alone. Rows are split over the helper threads. Precondition:
    /// ``supportsQuantizedActivations``.
    public func matvecQuantized(
        activations: [UnsafeRawPointer], outputs y: [UnsafeMutablePointer<Float>], threads: Int = Parallel.defaultThreadCount
    ) {
        precondition(supportsQuantizedActivations, "\(type) has no 8-bit-activation kernel")
        precondition(activations.count == y.count, "\(activations.count) input vectors, \(y.count) outputs")
        guard rows > 0, !activations.isEmpty else { return }
        let status = activations.map { Optional($0) }.withUnsafeBufferPointer { xq in
            y.map { Optional($0) }.withUnsafeBufferPointer { out in
                rmas_gemm_vectors_parallel(Int32(type.rawValue), Int32(columns), base, rowBytes, xq.baseAddress, out.baseAddress,
                                           Int32(activations.count), Int64(rows), Int32(threads))
            }
        }
        precondition(status == 0, "rmas_gemm_vectors_parallel rejected \(type)")
    }
}
