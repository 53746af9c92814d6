// Shared row drivers for the unblocked float encodings (F32, F16, BF16): one element per
// "block", widened 16 at a time with a scalar tail.

/// A float encoding that widens element by element to `Float`.
protocol ElementDecoding: QuantFormat {
    /// Widens the element at `element` exactly.
    static func widen(_ element: UnsafeRawPointer) -> Float
    /// Widens the 16 consecutive elements at `elements`, lane-for-lane equal to `widen`.
    static func widen16(_ elements: UnsafeRawPointer) -> SIMD16<Float>
    /// Widens 16 elements for a dot product: equal to `widen16` except that NaNs may come back
    /// with another payload (the dot of a row holding a NaN is NaN either way).
    static func widen16ForDot(_ elements: UnsafeRawPointer) -> SIMD16<Float>
}

extension ElementDecoding {
    @inline(__always)
    static func widen16ForDot(_ elements: UnsafeRawPointer) -> SIMD16<Float> { widen16(elements) }
}

extension ElementDecoding {
    @inline(__always)
    static func widenRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            storeFloats(widen16(row + i * bytesPerBlock), y + i)
            i += 16
        }
        while i < count {
            y[i] = widen(row + i * bytesPerBlock)
            i += 1
        }
    }

    /// `Σ w·x` with four 16-lane FMA chains over 64-element steps, then 16-element steps, then
    /// a scalar tail.
    @inline(__always)
    static func widenDot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>(), acc2 = SIMD16<Float>(), acc3 = SIMD16<Float>()
        var i = 0
        while i + 64 <= count {
            acc0.addProduct(widen16ForDot(row + i * bytesPerBlock), loadFloats(x + i))
            acc1.addProduct(widen16ForDot(row + (i + 16) * bytesPerBlock), loadFloats(x + i + 16))
            acc2.addProduct(widen16ForDot(row + (i + 32) * bytesPerBlock), loadFloats(x + i + 32))
            acc3.addProduct(widen16ForDot(row + (i + 48) * bytesPerBlock), loadFloats(x + i + 48))
            i += 64
        }
        while i + 16 <= count {
            acc0.addProduct(widen16ForDot(row + i * bytesPerBlock), loadFloats(x + i))
            i += 16
        }
        var tail: Float = 0
        while i < count {
            tail.addProduct(widen(row + i * bytesPerBlock), x[i])
            i += 1
        }
        return horizontalSum((acc0 + acc1) + (acc2 + acc3)) + tail
    }
}
