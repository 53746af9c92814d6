// Provenance: exp by Cody–Waite range reduction (x = n·ln2 + r) and a degree-6 Taylor/minimax-style
// polynomial on |r| ≤ ln2/2, the scheme of Cephes expf; tested against Foundation exp in KernelsTests.

/// Vectorised transcendental functions over 16 lanes (AVX-512 with `-target-cpu native`).
public enum VectorMath {
    /// e^x per lane; relative error ≈ 2e-7 on [-87, 88]; saturates to 0 / +inf outside.
    @inline(__always)
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        // Clamp by compare-and-replace: `clamped(lowerBound:upperBound:)` goes through generic
        // pointwiseMin/Max calls that are not inlined (measured out of line in the profile).
        let low = SIMD16<Float>(repeating: -87.3), high = SIMD16<Float>(repeating: 88.7)
        var clamped = x
        clamped.replace(with: low, where: x .< low)
        clamped.replace(with: high, where: x .> high)
        // n = round(x·log2 e) via the 1.5·2²³ trick: adding it leaves n in the low mantissa bits,
        // which avoids the generic (out-of-line) SIMD float↔int conversions of the stdlib.
        let magic: Float = 12_582_912
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        // r = x − n·ln2 in two steps (ln2 split into an exactly representable high part and a low part).
        var r = clamped - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        var p = SIMD16<Float>(repeating: 1.987_569_1e-4)
        p = p * r + 1.398_199_9e-3
        p = p * r + 8.333_452e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_5e-1
        p = p * r + 0.5
        p = p * r * r + r + 1
        // Scale by 2^n through the exponent bits.
        let integerN = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let bits = (integerN &+ 127) &<< 23
        var result = p * unsafeBitCast(bits, to: SIMD16<Float>.self)
        result.replace(with: 0, where: x .< -87.3)
        result.replace(with: Float.infinity, where: x .> 88.7)
        return result
    }

    /// tanh per lane, as 1 − 2 / (e^{2x} + 1) (exact limits ±1).
    @inline(__always)
    public static func tanh(_ x: SIMD16<Float>) -> SIMD16<Float> {
        1 - 2 / (exp(2 * x) + 1)
    }

    /// Scalar e^x through the same polynomial, for tails shorter than 16.
    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(SIMD16(repeating: x))[0] }

    /// Applies `f` to `count` floats from `x` into `y` (which may alias `x`), 16 at a time.
    @inline(__always)
    public static func map(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
        _ f: (SIMD16<Float>) -> SIMD16<Float>
    ) {
        var i = 0
        while i + 16 <= count {
            UnsafeMutableRawPointer(y + i).storeBytes(of: f(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)), as: SIMD16<Float>.self)
            i += 16
        }
        if i < count {
            var lanes = SIMD16<Float>()
            for j in i..<count { lanes[j - i] = x[j] }
            let out = f(lanes)
            for j in i..<count { y[j] = out[j - i] }
        }
    }

    /// max of `count` ≥ 1 floats, 16 lanes at a time (a scalar loop is one dependent compare per element).
    @inline(__always)
    public static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            lanes.replace(with: v, where: v .> lanes)  // not pointwiseMax: see exp
            i += 16
        }
        var m = lanes.max()
        while i < count {
            m = Swift.max(m, x[i])
            i += 1
        }
        return m
    }

    /// x[i] ← exp(x[i] − shift) in place; returns Σ of the results (summed in 16 lanes).
    @inline(__always)
    public static func exponentiate(_ x: UnsafeMutablePointer<Float>, count: Int, subtracting shift: Float) -> Float {
        var total = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            let e = exp(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) - shift)
            UnsafeMutableRawPointer(x + i).storeBytes(of: e, as: SIMD16<Float>.self)
            total += e
            i += 16
        }
        if i < count {
            var lanes = SIMD16<Float>(repeating: -.infinity)
            for j in i..<count { lanes[j - i] = x[j] }
            let e = exp(lanes - shift)  // exp(−∞) = 0 in the unused lanes
            for j in i..<count { x[j] = e[j - i] }
            total += e
        }
        return total.sum()
    }

    /// x[i] ← x[i] · factor.
    @inline(__always)
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) * factor
            UnsafeMutableRawPointer(x + i).storeBytes(of: v, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            x[i] *= factor
            i += 1
        }
    }
}
