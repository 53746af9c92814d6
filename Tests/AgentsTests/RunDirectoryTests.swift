import Foundation
@testable import Agents
import Links
import Models
import RoleData
import TestSupport
import Testing
import Training

/// Checkpoint directories are written by one run at a time, never overwritten without resume,
/// and never left with orphans or a manifest naming a missing file; corrupt links are refused.
@Suite("Run directories and checkpoints under failure", .serialized)
struct RunDirectoryTests {
    static func trainer(_ model: LanguageModel, rows: [RoleExample], steps: Int = 4, output: URL, resume: Bool = false) throws(AgentError) -> InnerTrainer {
        var c = InnerTrainerTests.configuration(steps: steps)
        c.checkpointEvery = 2
        return try InnerTrainer(model: model, train: InnerTrainerTests.pairs(rows), heldOut: [], configuration: c, output: output,
                                modelIdentity: .init(role: "planner", name: "tiny", sha256: "t"), resume: resume)
    }

    @Test("train inner refuses to overwrite an existing checkpoint without resume")
    func noSilentOverwrite() throws {
        let directory = InnerTrainerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (model, _) = try InnerTrainerTests.tinyModel(in: directory)
        let rows = SyntheticArithmetic(seed: 6).generate(count: 6), output = directory.appendingPathComponent("ckpt")
        try Self.trainer(model, rows: rows, output: output).run()
        let before = try Data(contentsOf: output.appendingPathComponent("manifest.json"))
        do {
            _ = try Self.trainer(model, rows: rows, output: output)
            Issue.record("a second run without resume was accepted")
        } catch {
            guard case .checkpoint(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("already holds a checkpoint"))
        }
        #expect(try Data(contentsOf: output.appendingPathComponent("manifest.json")) == before)
        #expect(try Self.trainer(model, rows: rows, steps: 6, output: output, resume: true).step == 4)
    }

    @Test("a second writer to a run directory is refused while the first holds it, and admitted after")
    func exclusiveLock() throws {
        let directory = InnerTrainerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (model, _) = try InnerTrainerTests.tinyModel(in: directory)
        let rows = SyntheticArithmetic(seed: 7).generate(count: 6), output = directory.appendingPathComponent("ckpt")
        var first: InnerTrainer? = try Self.trainer(model, rows: rows, output: output)
        do {
            _ = try Self.trainer(model, rows: rows, output: output, resume: true)
            Issue.record("a concurrent writer was accepted")
        } catch {
            guard case .checkpoint(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("in use by another run") && message.contains("pid \(getpid())"), "\(message)")
        }
        try first?.run()
        first = nil  // releases the lock
        #expect(try Self.trainer(model, rows: rows, steps: 6, output: output, resume: true).step == 4)
    }

    @Test("the lock is held across processes: a child's flock on the directory fails while we hold it")
    func lockAcrossProcesses() throws {
        let directory = InnerTrainerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lock = try RunDirectoryLock(directory: directory)
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        probe.arguments = ["--nonblock", "--conflict-exit-code", "75", directory.appendingPathComponent(".lock").path, "true"]
        try probe.run()
        probe.waitUntilExit()
        #expect(probe.terminationStatus == 75)
        _ = lock
    }

    @Test("a checkpoint write that fails midway leaves the previous checkpoint intact and no orphan files")
    func failedWriteLeavesNoOrphans() throws {
        let directory = InnerTrainerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = CheckpointStore(directory: directory)
        let parameters = try ParameterSet([Parameter(name: "w", shape: [2], values: [1, 2])])
        func manifest(step: Int) -> CheckpointManifest {
            CheckpointManifest(kind: "inner", step: step, links: [], models: [], arguments: [:], resume: [:], metrics: [:])
        }
        let moments = AdamWState(step: 1, moments: [.init(name: "w", first: [0, 0], second: [0, 0])])
        try store.save(manifest(step: 1), parameters: parameters, optimizer: moments)
        let before = try Set(FileManager.default.contentsOfDirectory(atPath: directory.path))
        // The step-2 optimizer file cannot be written (a non-empty directory is in its place),
        // after the step-2 weights were: as when the disk fills between the two writes.
        let blocker = directory.appendingPathComponent("optimizer-00000002.safetensors")
        try FileManager.default.createDirectory(at: blocker.appendingPathComponent("x"), withIntermediateDirectories: true)
        parameters[0].values = [3, 4]
        #expect(throws: CheckpointError.self) { try store.save(manifest(step: 2), parameters: parameters, optimizer: moments) }
        try FileManager.default.removeItem(at: blocker)
        let after = try Set(FileManager.default.contentsOfDirectory(atPath: directory.path))
        #expect(after == before, "left behind: \(after.subtracting(before))")
        let (kept, weights, _) = try store.load()
        #expect(kept.step == 1 && weights.tensors["w"]?.values == [1, 2])
    }

    @Test("link weights with a NaN are refused when a checkpoint is restored")
    func nonFiniteLinkWeights() throws {
        let directory = InnerTrainerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = CheckpointStore(directory: directory)
        let parameters = try ParameterSet([Parameter(name: "w", shape: [3], values: [1, .nan, 2])])
        try store.save(CheckpointManifest(kind: "inner", step: 1, links: [], models: [], arguments: [:], resume: [:], metrics: [:]),
                       parameters: parameters, optimizer: nil)
        let (_, weights, _) = try store.load()
        let fresh = try ParameterSet([Parameter(name: "w", shape: [3], values: [0, 0, 0])])
        do {
            try CheckpointStore.restore(fresh, from: weights)
            Issue.record("NaN weights were restored")
        } catch {
            #expect("\(error)".contains("non-finite") && "\(error)".contains("'w'"), "\(error)")
        }
        #expect(fresh[0].values == [0, 0, 0])
    }

    @Test("a link path that is not a checkpoint directory gets a plain message, not a Foundation dump")
    func notACheckpoint() throws {
        let directory = InnerTrainerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("rows.jsonl"), junk = directory.appendingPathComponent("junk")
        try Data("{}\n".utf8).write(to: file)
        try FileManager.default.createDirectory(at: junk, withIntermediateDirectories: true)
        try Data("not json".utf8).write(to: junk.appendingPathComponent("manifest.json"))
        let cases: [(URL, String)] = [
            (file, "a file, not a checkpoint directory"), (directory.appendingPathComponent("absent"), "no such checkpoint directory"),
            (directory, "not a checkpoint directory"), (junk, "not valid JSON"),
        ]
        for (url, needle) in cases {
            do {
                _ = try CheckpointStore(directory: url).manifest()
                Issue.record("\(url.path) was read as a checkpoint")
            } catch {
                let message = "\(error)"
                #expect(message.contains(needle), "\(message)")
                #expect(!message.contains("Domain=") && !message.contains("UserInfo"), "\(message)")
            }
        }
    }

    @Test("a question longer than a node's context is refused with the counts, before any forward pass")
    func promptLongerThanContext() throws {
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        let question = String(repeating: "How many apples? ", count: 300)  // ≫ 4096 byte-level tokens
        for method in [InferenceMethod.latent, .text, .single] {
            do {
                _ = try runner.run(question: question, method: method, rounds: 1, latentSteps: 2, generation: GenerationParameters(maxTokens: 4))
                Issue.record("\(method): accepted")
            } catch {
                #expect("\(error)".contains("more than the model's context of 4096"), "\(method): \(error)")
            }
        }
    }

    @Test("the answer retry generates nothing when the token budget is 0")
    func retryRespectsTheBudget() throws {
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        var result = SystemRunResult(text: "no answer here", stages: [
            StageRecord(round: 1, node: "solver", promptTokens: 3, latentInputs: 0, latentSteps: 0, generatedTokens: 0, seconds: 0,
                        text: "no answer here", toolCalls: nil),
        ])
        runner.retryAnswer(&result, node: 2, generation: GenerationParameters(maxTokens: 0))
        #expect(result.text == "no answer here" && result.stages[0].generatedTokens == 0)
        runner.retryAnswer(&result, node: 2, generation: GenerationParameters(maxTokens: 4))
        #expect(result.text.contains("Final Answer: \\boxed{"), "the retry itself still runs with a budget")
    }
}

extension RunDirectoryTests {
    @Test("a letter-form retry continues with \"The answer is (\" for 2 tokens, and leaves a reply that names a letter alone")
    func letterRetry() throws {
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        func result(_ text: String) -> SystemRunResult {
            SystemRunResult(text: text, stages: [StageRecord(round: 1, node: "solver", promptTokens: 3, latentInputs: 0, latentSteps: 0,
                                                             generatedTokens: 1, seconds: 0, text: text, toolCalls: nil)])
        }
        var answered = result("B.")
        runner.retryAnswer(&answered, node: 2, generation: GenerationParameters(maxTokens: 8), form: .letter)
        #expect(answered.text == "B." && answered.stages[0].generatedTokens == 1, "\"B.\" names a letter: no math retry appends \\boxed{10}")
        var unsure = result("I am not sure.")
        runner.retryAnswer(&unsure, node: 2, generation: GenerationParameters(maxTokens: 8), form: .letter)
        #expect(unsure.text.hasPrefix("I am not sure.\nThe answer is ("))
        #expect(unsure.stages[0].generatedTokens <= 1 + 2)
    }
}
