// Reference: the contracts of Links' forward/backward (explicit contexts, accumulated gradients)
// and of training with Training.AdamW.
import Kernels
import Links
import Testing
import Training

@Suite("Links in training")
struct LinkTrainingTests {
    /// 0.5·‖link(x) − target‖² and its gradient with respect to the output.
    private func squaredError(_ output: [Float], _ target: [Float]) -> (loss: Double, gradient: [Float]) {
        let difference = zip(output, target).map { $0 - $1 }
        return (difference.reduce(0) { $0 + 0.5 * Double($1 * $1) }, difference)
    }

    @Test("one AdamW step on the gradient lowers the loss, for every link type", arguments: allLinkKindNames)
    func adamWStepLowersLoss(kind: String) throws {
        var generator = SplitMix64(seed: 21)
        let isInner = InnerLinkKind(rawValue: kind) != nil
        let (inputWidth, outputWidth, rows) = (isInner ? 16 : 12, 16, 6)
        let link = try makeLink(kind, inputWidth: inputWidth, outputWidth: outputWidth, using: &generator)
        let x = gaussians(rows * inputWidth, using: &generator)
        let target = gaussians(rows * outputWidth, using: &generator)
        var optimizer = AdamW(parameters: link.parameters)

        let (output, context) = link.forward(x, rows: rows)
        let (before, dOutput) = squaredError(output, target)
        link.parameters.zeroGradients()
        _ = link.backward(context, outputGradient: dOutput)
        try optimizer.step(link.parameters, learningRate: 1e-3)
        let after = squaredError(link(x, rows: rows), target).loss
        #expect(after < before, "\(kind): loss \(before) → \(after)")
    }

    @Test("several forwards may be alive before their backwards (rounds)")
    func interleavedContexts() {
        var generator = SplitMix64(seed: 8)
        let link = OuterLink(inputWidth: 10, outputWidth: 14, seed: 9)
        perturbLayerNorms(link.parameters, using: &generator)
        let (xA, xB) = (gaussians(3 * 10, using: &generator), gaussians(2 * 10, using: &generator))
        let (dyA, dyB) = (gaussians(3 * 14, using: &generator), gaussians(2 * 14, using: &generator))

        // Both forwards first, then the backwards in reverse order.
        let (_, contextA) = link.forward(xA, rows: 3)
        let (_, contextB) = link.forward(xB, rows: 2)
        link.parameters.zeroGradients()
        let dxB = link.backward(contextB, outputGradient: dyB)
        let dxA = link.backward(contextA, outputGradient: dyA)
        let interleaved = link.parameters.map(\.gradient)

        // Each forward immediately followed by its backward, accumulating in the same order.
        link.parameters.zeroGradients()
        let soloB = link.backward(link.forward(xB, rows: 2).context, outputGradient: dyB)
        let soloA = link.backward(link.forward(xA, rows: 3).context, outputGradient: dyA)
        #expect(dxA == soloA && dxB == soloB)
        #expect(link.parameters.map(\.gradient) == interleaved)
        // Accumulation: the sum holds both calls' contributions, not just the last one.
        link.parameters.zeroGradients()
        _ = link.backward(contextA, outputGradient: dyA)
        #expect(link.parameters.map(\.gradient) != interleaved)
    }
}
