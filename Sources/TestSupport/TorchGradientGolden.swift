// Provenance: the fixtures written by Tools/golden/make_torch_grads.py (PyTorch float64 on the
// committed tiny GGUFs); the two losses are defined here and in that script by the same formulas.
import Foundation
import GGUF
import Models

/// Input-embedding gradients of two scalar losses, computed by PyTorch in float64 on a committed
/// tiny GGUF (`Tests/ModelsTests/Fixtures/torch-grads-tiny-<arch>.json`).
///
/// JSON fields (matrices are flat, row-major; T positions, D width, V vocabulary):
/// - `architecture`, `model_file` (the fixture GGUF beside the JSON), `model_sha256`
/// - `count` T, `width` D, `vocabulary_size` V
/// - `token_ids [T]`: seeded ids; `inputs [T × D]`: the model's input embeddings of those ids
///   (HF `embed_tokens`, with Gemma's √D), rounded to float32. These float32 values, widened, are
///   the exact input of every torch computation below.
/// - `hidden [T × D]`: hidden states after the final norm; `logits [T × V]` (9 significant digits)
/// - `cross_entropy`: `positions` P, `labels` (ids[p + 1]), `loss`, `gradient [T × D]` = dL/dX of
///   L = mean over p ∈ P of −log softmax(logits_p)[label_p]
/// - `hidden_loss`: `positions` Q, `targets [|Q| × D]` (float32 values), `mse_weight` w, `loss`,
///   `gradient [T × D]` of L = mean_q (1 − cos(H_q, C_q)) + w · mean_q mean_d (H_q − C_q)²
/// - `seed`, `conventions`, `reference` (versions, command, the script's own checks): not decoded
///
/// The losses are reimplemented below (``crossEntropyLoss(logits:)``, ``hiddenStateLoss(hidden:)``)
/// with their gradients w.r.t. logits / hidden states, the seeds of a backward pass.
public struct TorchGradientGolden: Decodable, Sendable {
    public struct CrossEntropy: Decodable, Sendable {
        public let positions: [Int]
        public let labels: [Int]
        public let loss: Double
        public let gradient: [Double]  // [T × D]
    }

    public struct HiddenLoss: Decodable, Sendable {
        public let positions: [Int]
        public let targets: [Float]  // [|Q| × D], float32 as torch used them (widened)
        public let mseWeight: Double
        public let loss: Double
        public let gradient: [Double]  // [T × D]
    }

    public let architecture: String
    public let modelFile: String
    public let modelSha256: String
    public let count: Int  // T
    public let width: Int  // D
    public let vocabularySize: Int  // V
    public let tokenIds: [Int]
    public let inputs: [Float]  // [T × D]
    public let hidden: [Double]  // [T × D]
    public let logits: [Double]  // [T × V]
    public let crossEntropy: CrossEntropy
    public let hiddenLoss: HiddenLoss

    /// Decodes a golden (snake_case keys map to the camelCase properties).
    public static func load(url: URL) throws -> TorchGradientGolden {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(TorchGradientGolden.self, from: Data(contentsOf: url))
    }

    // MARK: - Fixtures

    /// `Tests/ModelsTests/Fixtures`, located from this source file (tests run from the checkout).
    public static let fixtureDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/ModelsTests/Fixtures")

    /// The golden for `architecture` (`torch-grads-tiny-<arch>.json`).
    public static func fixture(_ architecture: Architecture) throws -> TorchGradientGolden {
        try load(url: fixtureDirectory.appendingPathComponent("torch-grads-tiny-\(architecture.rawValue).json"))
    }

    /// The committed GGUF behind the golden (`tiny-<arch>.gguf`).
    public static func modelURL(_ architecture: Architecture) -> URL {
        fixtureDirectory.appendingPathComponent("tiny-\(architecture.rawValue).gguf")
    }

    /// The committed GGUF behind the golden, loaded.
    public static func transformer(_ architecture: Architecture) throws -> Transformer {
        try Transformer(file: try GGUFFile(path: modelURL(architecture).path))
    }

    /// The settings the committed tiny GGUFs were written with: smaller than ``TinyModel``'s
    /// defaults to keep each file under 200 KB, with F ≠ D and (gemma3, like the real Gemma-3)
    /// H·Dh ≠ D so that a transposed shape cannot pass. f32 weights, seed 1; gemma3 keeps six
    /// layers (five sliding, one global) and a window of 5.
    public static func tinyModel(_ architecture: Architecture) -> TinyModel {
        var spec = TinyModel(architecture)
        spec.contextLength = 256  // as the committed fixture files were written
        spec.heads = 4
        spec.kvHeads = 2
        spec.headDim = 8
        if architecture == .gemma3 {
            spec.width = 24
            spec.ffn = 40
        } else {
            spec.width = 32
            spec.ffn = 48
        }
        return spec
    }

    // MARK: - The two losses (value and gradient with respect to their own input)

    /// Mean cross-entropy over ``CrossEntropy/positions`` and its gradient `[T × V]` w.r.t. `logits`.
    public func crossEntropyLoss(logits: [Double]) -> (loss: Double, gradient: [Double]) {
        let v = vocabularySize, n = Double(crossEntropy.positions.count)
        var loss = 0.0
        var gradient = [Double](repeating: 0, count: logits.count)
        for (p, label) in zip(crossEntropy.positions, crossEntropy.labels) {
            let row = logits[(p * v)..<((p + 1) * v)]
            let top = row.max()!
            let logSum = top + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - top) })
            loss += (logSum - row[p * v + label]) / n
            for j in 0..<v { gradient[p * v + j] += Foundation.exp(row[p * v + j] - logSum) / n }
            gradient[p * v + label] -= 1 / n
        }
        return (loss, gradient)
    }

    /// The hidden-state loss and its gradient `[T × D]` w.r.t. `hidden`.
    public func hiddenStateLoss(hidden: [Double]) -> (loss: Double, gradient: [Double]) {
        let d = width, n = Double(hiddenLoss.positions.count), w = hiddenLoss.mseWeight
        var loss = 0.0
        var gradient = [Double](repeating: 0, count: hidden.count)
        for (i, p) in hiddenLoss.positions.enumerated() {
            let h = Array(hidden[(p * d)..<((p + 1) * d)])
            let c = hiddenLoss.targets[(i * d)..<((i + 1) * d)].map(Double.init)
            let hc = zip(h, c).reduce(0) { $0 + $1.0 * $1.1 }
            let hNorm = h.reduce(0) { $0 + $1 * $1 }.squareRoot(), cNorm = c.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let cosine = hc / (hNorm * cNorm)
            loss += (1 - cosine) / n + w * zip(h, c).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / (n * Double(d))
            for j in 0..<d {
                let dCosine = c[j] / (hNorm * cNorm) - cosine * h[j] / (hNorm * hNorm)
                gradient[p * d + j] += -dCosine / n + w * 2 * (h[j] - c[j]) / (n * Double(d))
            }
        }
        return (loss, gradient)
    }
}
