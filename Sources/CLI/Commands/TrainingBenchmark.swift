import Foundation
import Kernels
import Models
import Training

/// `rmas bench --train`: one training step's forward + backward to the input embeddings, as the
/// PyTorch anchor (shared/anchors/torch_anchor.py, measurement "(b)") times it: batch 1 × T random
/// tokens, next-token cross-entropy over all T positions (targets = ids rolled by one), weights frozen.
struct TrainingBenchmark {
    let model: LanguageModel
    let positions: Int
    let threads: Int
    let memory: ActivationMemory
    /// Sequences whose tapes are alive at once (a RecursiveMAS step: agents × rounds): all
    /// forwards first, then all backwards in reverse, as one step through a chained graph would.
    var sequences = 1
    /// The frozen weights' matrix products (``ActivationPrecision/float32`` or ``ActivationPrecision/bfloat16``).
    var precision = ActivationPrecision.float32

    /// Seconds per forward+backward, one warm-up then `repetitions` runs; also the gradient norm.
    func run(repetitions: Int) -> (seconds: [Double], gradientNorm: Double, loss: Double) {
        if precision.gemmFormat == .bfloat16 { BLAS.letIdleWorkersSleep() }  // as the trainers do
        let transformer = model.transformer, c = model.configuration, t = positions
        var rng = SplitMix64(seed: 0)
        let ids = (0..<t).map { _ in Int32(rng.next() % UInt64(c.vocabularySize)) }
        let targets = Array(ids.dropFirst()) + [ids[0]]
        let x = transformer.embeddings(ids)
        var dX = [Float](repeating: 0, count: t * c.width)
        var loss = 0.0
        func step() {
            var pending: [(ForwardTape, [Float])] = []
            for _ in 0..<sequences {
                let (tape, hidden) = x.withUnsafeBufferPointer {
                    transformer.forwardForTraining(embeddings: $0.baseAddress!, count: t, memory: memory, precision: precision,
                                                   threads: threads)
                }
                var dH = [Float](repeating: 0, count: t * c.width)
                loss = hidden.withUnsafeBufferPointer { h in
                    dH.withUnsafeMutableBufferPointer {
                        transformer.crossEntropy(hidden: h.baseAddress!, positions: Array(0..<t), targets: targets,
                                                 hiddenGradient: $0.baseAddress!, precision: precision, threads: threads)
                    }
                }
                pending.append((tape, dH))
            }
            for (tape, dH) in pending.reversed() {
                dH.withUnsafeBufferPointer { g in
                    dX.withUnsafeMutableBufferPointer {
                        transformer.backward(tape: tape, hiddenGradient: g.baseAddress!, embeddingGradient: $0.baseAddress!,
                                             threads: threads)
                    }
                }
            }
        }
        step()  // warm-up: dense weights, page faults
        let clock = ContinuousClock()
        let seconds = (0..<repetitions).map { _ in
            let start = clock.now
            step()
            return (clock.now - start).seconds
        }
        let norm = dX.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        return (seconds, norm, loss)
    }
}

/// Runs the PyTorch anchor script on the same GGUF and reads its forward+backward median.
struct TorchAnchorRun {
    var forwardBackwardSeconds: Double?
    var gradientNorm: Double?
    var output: String
    /// The end of the script's stderr (a Python traceback says why the (b) line is missing).
    var errors: String

    init(python: String, script: String, model: String, threads: Int, repetitions: Int) throws {
        let url = URL(fileURLWithPath: model)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, url.deletingLastPathComponent().path, url.lastPathComponent, "\(threads)", "\(repetitions)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        // stderr goes to a file, not a second pipe: reading one pipe to its end while the other fills would block.
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-torch-anchor-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)  // FileHandle(forWritingTo:) below fails loudly if it could not
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let errorHandle = try FileHandle(forWritingTo: errorFile)
        process.standardError = errorHandle
        try process.run()
        output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try? errorHandle.close()
        errors = String(String(decoding: (try? Data(contentsOf: errorFile)) ?? Data(), as: UTF8.self).suffix(2000))
        // "(b) forward+backward(inputs_embeds) 1x256: median   1105.0 ms ... (grad norm 0.1234)"
        for line in output.split(separator: "\n") where line.hasPrefix("(b)") {
            if let range = line.range(of: "median"), let value = Double(line[range.upperBound...].split(separator: " ").first ?? "") {
                forwardBackwardSeconds = value / 1000
            }
            if let range = line.range(of: "grad norm "), let value = Double(line[range.upperBound...].prefix { $0 != ")" }) {
                gradientNorm = value
            }
        }
    }
}
