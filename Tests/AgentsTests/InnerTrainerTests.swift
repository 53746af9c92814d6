import Foundation
import Agents
import Kernels
import Links
import Models
import RoleData
import TestSupport
import Testing
import Training

@Suite("Inner-link training", .serialized)
struct InnerTrainerTests {
    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-inner-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func tinyModel(in directory: URL) throws -> (LanguageModel, URL) {
        let url = directory.appendingPathComponent("tiny-qwen2.gguf")
        try Data(TinyModel(.qwen2).serialized()).write(to: url)
        return (try LanguageModel(path: url.path), url)
    }

    static func configuration(steps: Int) -> InnerTrainingConfiguration {
        var c = InnerTrainingConfiguration(node: "planner")
        c.steps = steps
        c.batchSize = 2
        c.checkpointEvery = 5
        c.evaluateEvery = 5
        c.maximumLength = 2048  // the tiny tokenizer spends one token per byte
        c.learningRate = 3e-3
        return c
    }

    @Test("the held-out loss falls on a tiny model")
    func lossFalls() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (model, _) = try Self.tinyModel(in: directory)
        let rows = SyntheticArithmetic(seed: 3).generate(count: 24)
        let trainer = try InnerTrainer(model: model, train: Self.pairs(Array(rows.prefix(20))), heldOut: Self.pairs(Array(rows.suffix(4))),
                                       configuration: Self.configuration(steps: 40), output: directory.appendingPathComponent("ckpt"),
                                       modelIdentity: .init(role: "planner", name: "tiny", sha256: "t"), resume: false)
        let before = trainer.evaluate()
        try trainer.run()
        let after = trainer.heldOutHistory.last!.loss
        #expect(after < before * 0.9, "held-out loss \(before) → \(after)")
    }

    @Test("stopping and resuming from the checkpoint ends with the same weights")
    func resumeIsExact() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (model, _) = try Self.tinyModel(in: directory)
        let rows = SyntheticArithmetic(seed: 4).generate(count: 14)
        func trainer(_ out: String, resume: Bool) throws -> InnerTrainer {
            try InnerTrainer(model: model, train: Self.pairs(Array(rows.prefix(11))), heldOut: Self.pairs(Array(rows.suffix(3))),
                             configuration: Self.configuration(steps: 23), output: directory.appendingPathComponent(out),
                             modelIdentity: .init(role: "planner", name: "tiny", sha256: "t"), resume: resume)
        }
        let whole = try trainer("whole", resume: false)
        try whole.run()
        // Stop after step 12; the last checkpoint is step 10, so steps 11–12 are lost and redone.
        try trainer("split", resume: false).run { $0.step < 12 }
        let resumed = try trainer("split", resume: true)
        #expect(resumed.step == 10)
        try resumed.run()
        #expect(resumed.link.parameters.map(\.values) == whole.link.parameters.map(\.values))
    }
}

extension InnerTrainerTests {
    /// A diverging run (absurd learning rate) stops with a typed error at the first non-finite
    /// loss; the last checkpoint on disk is intact and finite.
    @Test("a non-finite loss stops training with a typed error and keeps the last checkpoint")
    func nonFiniteLoss() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (model, _) = try Self.tinyModel(in: directory)
        var configuration = Self.configuration(steps: 50)
        configuration.learningRate = 1e30
        configuration.warmupSteps = 0
        configuration.checkpointEvery = 1
        let output = directory.appendingPathComponent("ckpt")
        let trainer = try InnerTrainer(model: model, train: Self.pairs(SyntheticArithmetic(seed: 5).generate(count: 6)), heldOut: [],
                                       configuration: configuration, output: output,
                                       modelIdentity: .init(role: "planner", name: "tiny", sha256: "t"), resume: false)
        var caught: AgentError?
        do { try trainer.run() } catch { caught = error }
        guard case .nonFiniteLoss(let step) = caught else {
            Issue.record("expected nonFiniteLoss, got \(String(describing: caught))")
            return
        }
        let (manifest, weights, _) = try CheckpointStore(directory: output).load()
        #expect(manifest.step == step)
        #expect(weights.tensors.values.allSatisfy { $0.values.allSatisfy(\.isFinite) })
    }

    /// The planner's inner-training conversations of the built-in sequential graph.
    static func pairs(_ rows: [RoleExample]) -> [TrainingPair] {
        rows.map { GraphDefinition.sequential().trainingPair(0, row: DataRow($0))! }
    }
}

extension InnerTrainerTests {
    /// A fresh link's outputs start at the scale of the embeddings it imitates (per-element RMS =
    /// the model's embedding RMS, computed here from the raw table), not LayerNorm's unit scale.
    @Test("a fresh link's output starts at the input embeddings' scale; unit keeps γ = 1")
    func outputScale() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (model, _) = try Self.tinyModel(in: directory)
        let c = model.configuration, d = c.width
        let all = model.transformer.embeddings((0..<Int32(c.vocabularySize)).map { $0 })
        let expected = (all.reduce(0.0) { $0 + Double($1 * $1) } / Double(all.count)).squareRoot()
        #expect(abs(Double(model.transformer.embeddingRMS(sample: c.vocabularySize)) - expected) <= 1e-5 * expected)
        let rows = SyntheticArithmetic(seed: 3).generate(count: 4)
        for scale in InnerOutputScale.allCases {
            var configuration = Self.configuration(steps: 1)
            configuration.outputScale = scale
            let trainer = try InnerTrainer(model: model, train: Self.pairs(rows), heldOut: [], configuration: configuration,
                                           output: directory.appendingPathComponent(scale.rawValue),
                                           modelIdentity: .init(role: "planner", name: "tiny", sha256: "t"), resume: false)
            var rng = SplitMix64(seed: 5)
            let x = (0..<(8 * d)).map { _ in 3 * (rng.nextUnitFloat() * 2 - 1) }
            let y = trainer.link.network.forward(x, rows: 8).output
            let rms = (y.reduce(0.0) { $0 + Double($1 * $1) } / Double(y.count)).squareRoot()
            let target = scale == .unit ? 1 : Double(model.transformer.embeddingRMS())
            #expect(abs(rms - target) <= 0.02 * target, "\(scale): output RMS \(rms), expected \(target)")
        }
    }
}
