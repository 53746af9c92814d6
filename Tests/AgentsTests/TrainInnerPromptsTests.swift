import Foundation
import RoleData
import TestSupport
import Testing

/// `rmas train inner --prompts-from FILE` and `rmas think --prompts-from FILE`: the system file's
/// prompt templates word the training conversations and the prompt (runs the built executable, as
/// the kill-and-resume test does).
@Suite("train inner --prompts-from")
struct TrainInnerPromptsTests {
    @Test("a system file's prompts change what the link trains on and frame `think`; a bad prompts block is refused")
    func promptsFrom() throws {
        _ = try #require(KillResumeTests.executable, "the rmas executable is not built next to the tests")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-prompts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = directory.appendingPathComponent("tiny.gguf")
        try Data(TinyModel(.qwen2).serialized()).write(to: model)
        let data = directory.appendingPathComponent("rows.jsonl")
        try RoleJSONL.write(SyntheticArithmetic(seed: 3).generate(count: 12), to: data)
        func system(_ name: String, prompts: String) throws -> URL {
            let url = directory.appendingPathComponent(name)
            try Data("""
                {"agents": [{"role": "planner", "model": "m"}, {"role": "refiner", "model": "m"}, {"role": "solver", "model": "m"}],
                 "links": [{"from": "planner", "to": "refiner"}, {"from": "refiner", "to": "solver"}, {"from": "solver", "to": "planner"}],
                 "prompts": \(prompts)}
                """.utf8).write(to: url)
            return url
        }
        func train(_ out: String, _ extra: [String] = []) throws -> (status: Int32, out: URL) {
            let url = directory.appendingPathComponent(out)
            let process = try KillResumeTests.launch(
                ["train", "inner", "--model", model.path, "--role", "solver", "--data", data.path, "--out", url.path,
                 "--steps", "3", "--batch-size", "4", "--held-out-count", "2", "--threads", "1"] + extra)
            process.waitUntilExit()
            return (process.terminationStatus, url)
        }
        let builtIn = try train("built-in")
        let same = try train("same", ["--prompts-from", try system("empty.json", prompts: "{}").path])
        let reworded = try train("reworded", ["--prompts-from", try system("reworded.json", prompts: #"{"solver": "Plan: {slot}\nQ: {question}\n{instruction}"}"#).path])
        try #require(builtIn.status == 0 && same.status == 0 && reworded.status == 0)
        #expect(try KillResumeTests.finalWeights(same.out) == KillResumeTests.finalWeights(builtIn.out))
        #expect(try KillResumeTests.finalWeights(reworded.out) != KillResumeTests.finalWeights(builtIn.out))

        let bad = try system("bad.json", prompts: #"{"solver": "{question}"}"#)
        let refused = try train("refused", ["--prompts-from", bad.path])
        #expect(refused.status != 0)
        #expect(!FileManager.default.fileExists(atPath: refused.out.appendingPathComponent("manifest.json").path))

        // `rmas think` frames its question with the same templates.
        func think(_ prompts: URL) throws -> Int32 {
            let process = try KillResumeTests.launch(
                ["think", "--model", model.path, "--link", reworded.out.path, "--role", "solver", "--latent", "2",
                 "--max-tokens", "2", "--threads", "1", "--prompts-from", prompts.path, "1 + 1?"])
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(try think(directory.appendingPathComponent("reworded.json")) == 0)
        #expect(try think(bad) != 0)
    }
}
