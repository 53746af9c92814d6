import Foundation
import RoleData
import TestSupport
import Testing

/// `rmas train inner` killed with SIGKILL and resumed ends with the same weights as an
/// uninterrupted run: runs the built `rmas` executable (next to the test bundle).
@Suite("Kill and resume", .serialized)
struct KillResumeTests {
    static var executable: URL? {
        let directory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        let candidates = [directory, directory.deletingLastPathComponent()].map { $0.appendingPathComponent("rmas") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static func launch(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func manifestStep(_ directory: URL) -> Int? {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["step"] as? Int
    }

    static func finalWeights(_ directory: URL) throws -> Data {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("weights-") }
        try #require(names.count == 1)
        return try Data(contentsOf: directory.appendingPathComponent(names[0]))
    }

    @Test("SIGKILL mid-run, then --resume, equals an uninterrupted run")
    func killAndResume() throws {
        let rmas = try #require(Self.executable, "the rmas executable is not built next to the tests")
        _ = rmas
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = directory.appendingPathComponent("tiny.gguf")
        var spec = TinyModel(.qwen2)
        spec.width = 128
        spec.ffn = 384
        spec.layers = 4
        try Data(spec.serialized()).write(to: model)
        let data = directory.appendingPathComponent("rows.jsonl")
        try RoleJSONL.write(SyntheticArithmetic(seed: 9).generate(count: 60), to: data)
        func arguments(_ out: URL) -> [String] {
            ["train", "inner", "--model", model.path, "--role", "solver", "--data", data.path, "--out", out.path,
             "--steps", "200", "--batch-size", "8", "--checkpoint-every", "2", "--eval-every", "1000", "--held-out-count", "4",
             "--lr", "2e-3", "--threads", "1"]
        }
        let whole = directory.appendingPathComponent("whole"), killed = directory.appendingPathComponent("killed")
        let reference = try Self.launch(arguments(whole))
        reference.waitUntilExit()
        try #require(reference.terminationStatus == 0)

        let victim = try Self.launch(arguments(killed))
        let deadline = Date().addingTimeInterval(120)
        while (Self.manifestStep(killed) ?? 0) < 40, victim.isRunning, Date() < deadline { usleep(2_000) }
        try #require(victim.isRunning, "the run finished before it could be killed; make it longer")
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let stepAtKill = Self.manifestStep(killed) ?? 0
        #expect(stepAtKill >= 40 && stepAtKill < 200)

        let resumed = try Self.launch(arguments(killed) + ["--resume"])
        resumed.waitUntilExit()
        #expect(resumed.terminationStatus == 0)
        #expect(Self.manifestStep(killed) == 200)
        #expect(try Self.finalWeights(killed) == Self.finalWeights(whole), "killed at step \(stepAtKill)")
    }
}
