// The kernel interface every supported tensor encoding implements, and the generic row drivers
// that the block-quantized encodings share.

/// The kernels of one tensor element encoding, implemented by a caseless enum per GGML type
/// (`Q4_K`, `F16`, ...).
///
/// A row is `count` elements stored as `count / blockSize` consecutive blocks of
/// `bytesPerBlock` bytes each; `count` must be a multiple of `blockSize`. (`Sendable` so that
/// the metatypes can be used from worker threads; the enums have no state.)
public protocol QuantFormat: Sendable {
    /// The GGML type this enum implements.
    static var type: GGMLType { get }
    /// Elements per block (1 for f32/f16/bf16).
    static var blockSize: Int { get }
    /// Bytes per block.
    static var bytesPerBlock: Int { get }

    /// Scalar reference: decodes the block at `block` into `y[0 ..< blockSize]`, bit-exact
    /// with gguf-py's numpy dequantizer (same float32 operations in the same order).
    static func dequantizeReference(block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>)

    /// Vectorised: decodes a row of `count` elements into `y[0 ..< count]`; bit-exact with
    /// ``dequantizeReference(block:into:)``.
    static func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int)

    /// Vectorised: `Σ_i w[i]·x[i]` over a row of `count` elements (`x` holds `count` floats),
    /// where `w` is the row as ``dequantizeRow(_:into:count:)`` decodes it, accumulated in
    /// float32 FMA chains (single-scale formats apply their scale once per 32 elements).
    /// Its rounding error is bounded by about `(count/64 + 8)·2⁻²⁴·Σ|w[i]·x[i]|`.
    static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float
}

extension QuantFormat {
    /// Scalar reference over a whole row of `count` elements (`count / blockSize` blocks).
    public static func dequantizeRowReference(
        _ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        precondition(count % blockSize == 0, "\(type): row of \(count) is not whole blocks")
        for block in 0 ..< count / blockSize {
            dequantizeReference(block: row + block * bytesPerBlock, into: y + block * blockSize)
        }
    }
}

extension GGMLType {
    /// The kernels for this type, or nil when ``isComputeSupported`` is false.
    public var quantFormat: (any QuantFormat.Type)? {
        switch self {
        case .f32: F32.self
        case .f16: F16.self
        case .bf16: BF16.self
        case .q8_0: Q8_0.self
        case .q4_0: Q4_0.self
        case .q4_1: Q4_1.self
        case .q5_0: Q5_0.self
        case .q5_1: Q5_1.self
        case .q4_K: Q4_K.self
        case .q5_K: Q5_K.self
        case .q6_K: Q6_K.self
        default: nil
        }
    }
}

// MARK: - 16-lane block decoding

/// Receives a block's weights 16 at a time. `offset` is the element offset of the first lane
/// relative to the `base` given to ``BlockDecoding/decode(block:base:into:)``; after inlining
/// it is a constant, so sinks may branch on it for free.
protocol WeightSink {
    /// Weights of elements `offset ..< offset + 16`.
    mutating func take(_ weights: SIMD16<Float>, at offset: Int)
    /// Weights `q0 · scale` and `q1 · scale` of elements `offset ..< offset + 32` (one
    /// rounding each, as the symmetric formats' references compute them); lets a dot product
    /// apply the scale once per 32 elements.
    mutating func take(quants q0: SIMD16<Float>, _ q1: SIMD16<Float>, scale: Float, at offset: Int)
}

/// A block-quantized format whose blocks decode to multiples of 16 weights.
protocol BlockDecoding: QuantFormat {
    /// Decodes the block at `block`, passing the weights of elements `base + k ..< base + k + 16`
    /// to `sink` for k = 0, 16, ..., blockSize - 16. The weights are bit-exact with
    /// ``QuantFormat/dequantizeReference(block:into:)``.
    static func decode<Sink: WeightSink>(block: UnsafeRawPointer, base: Int, into sink: inout Sink)
}

/// Writes decoded weights to memory.
struct StoreSink: WeightSink {
    let y: UnsafeMutablePointer<Float>

    @inline(__always)
    mutating func take(_ weights: SIMD16<Float>, at offset: Int) {
        storeFloats(weights, y + offset)
    }

    @inline(__always)
    mutating func take(quants q0: SIMD16<Float>, _ q1: SIMD16<Float>, scale: Float, at offset: Int) {
        storeFloats(q0 * scale, y + offset)
        storeFloats(q1 * scale, y + offset + 16)
    }
}

/// Accumulates `Σ w·x` in four independent FMA chains (chosen by bits 4–5 of the offset) so
/// the FMA latency is hidden; `x` points at the activations of element 0 of the current span.
/// Scaled pairs are summed as `scale · (q0·x0 + q1·x1)`: exact weights times x up to
/// float32 rounding, with one multiply per 32 elements saved.
struct DotSink: WeightSink {
    var x: UnsafePointer<Float>
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>(), acc2 = SIMD16<Float>(), acc3 = SIMD16<Float>()

    init(x: UnsafePointer<Float>) { self.x = x }

    @inline(__always)
    mutating func take(_ weights: SIMD16<Float>, at offset: Int) {
        let activations = loadFloats(x + offset)
        switch (offset >> 4) & 3 {
        case 0: acc0.addProduct(weights, activations)
        case 1: acc1.addProduct(weights, activations)
        case 2: acc2.addProduct(weights, activations)
        default: acc3.addProduct(weights, activations)
        }
    }

    @inline(__always)
    mutating func take(quants q0: SIMD16<Float>, _ q1: SIMD16<Float>, scale: Float, at offset: Int) {
        var partial = q0 * loadFloats(x + offset)
        partial.addProduct(q1, loadFloats(x + offset + 16))
        if (offset >> 5) & 1 == 0 {
            acc0.addProduct(partial, scale)
        } else {
            acc1.addProduct(partial, scale)
        }
    }

    @inline(__always)
    var total: Float { horizontalSum((acc0 + acc1) + (acc2 + acc3)) }
}

extension BlockDecoding {
    /// Row decoder shared by the block formats (formats forward their `dequantizeRow` here).
    @inline(__always)
    static func decodeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % blockSize == 0, "\(type): row of \(count) is not whole blocks")
        for block in 0 ..< count / blockSize {
            var sink = StoreSink(y: y + block * blockSize)
            decode(block: row + block * bytesPerBlock, base: 0, into: &sink)
        }
    }

    /// Row dot shared by the block formats. Two blocks go through one sink per step so that
    /// 32-element blocks also feed all four accumulator chains.
    @inline(__always)
    static func decodeDot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        precondition(count % blockSize == 0, "\(type): row of \(count) is not whole blocks")
        let blocks = count / blockSize
        var sink = DotSink(x: x)
        var block = 0
        while block + 2 <= blocks {
            sink.x = x + block * blockSize
            decode(block: row + block * bytesPerBlock, base: 0, into: &sink)
            decode(block: row + (block + 1) * bytesPerBlock, base: blockSize, into: &sink)
            block += 2
        }
        if block < blocks {
            sink.x = x + block * blockSize
            decode(block: row + block * bytesPerBlock, base: 0, into: &sink)
        }
        return sink.total
    }
}
