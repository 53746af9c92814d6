import Kernels
import Testing

/// The element-wise kernels that split rows or spans over threads compute every element exactly
/// as one thread does (same per-row code), so their results must be bit-identical. Sizes are
/// chosen large enough that ``Parallel`` really makes several chunks.
@Suite("Threaded element-wise kernels equal one thread")
struct ThreadedKernelTests {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in rng.nextGaussian() }
    }

    @Test("the sizes below make more than one chunk")
    func sizesSplit() {
        #expect(Parallel.minimumRows(width: 96) * 2 <= 1000)
        #expect(32_768 * 2 <= 100_003)
    }

    @Test("RMSNorm forward and backward (accumulating)")
    func rmsNorm() {
        let rows = 1000, width = 96
        let x = Self.random(rows * width, seed: 1), w = Self.random(width, seed: 2), dy = Self.random(rows * width, seed: 3)
        func run(threads: Int) -> ([Float], [Float]) {
            var y = [Float](repeating: 0, count: rows * width)
            var dx = Self.random(rows * width, seed: 4)
            RMSNorm.forward(x: x, weight: w, y: &y, rows: rows, width: width, epsilon: 1e-6, threads: threads)
            RMSNorm.backward(x: x, weight: w, dy: dy, dx: &dx, rows: rows, width: width, epsilon: 1e-6, accumulate: true,
                             threads: threads)
            return (y, dx)
        }
        let one = run(threads: 1), two = run(threads: 2)
        #expect(one.0 == two.0)
        #expect(one.1 == two.1)
    }

    @Test("gated activations forward and backward", arguments: [GatedActivation.swiGLU, .geGLUTanh])
    func gated(_ activation: GatedActivation) {
        let count = 100_003  // not a multiple of 16: the last span has a scalar tail
        let gate = Self.random(count, seed: 5), up = Self.random(count, seed: 6), dOut = Self.random(count, seed: 7)
        func run(threads: Int) -> [Float] {
            var out = [Float](repeating: 0, count: count), dGate = out, dUp = out
            activation.forward(gate: gate, up: up, out: &out, count: count, threads: threads)
            activation.backward(gate: gate, up: up, dOut: dOut, dGate: &dGate, dUp: &dUp, count: count, threads: threads)
            return out + dGate + dUp
        }
        #expect(run(threads: 1) == run(threads: 2))
    }
}
