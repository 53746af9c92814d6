import ArgumentParser
import Foundation
import RoleData

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Build or fetch data: role rows (question, plan, refined_plan, answer) and benchmarks.",
        subcommands: [DataSyntheticCommand.self, DataGSMCommand.self, DataHumanEvalCommand.self, DataMMLUCommand.self])
}

struct DataSyntheticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthetic", abstract: "Multi-step arithmetic word problems with derived plans and answers (deterministic per seed).")

    @Option(help: "Rows to write.", in: 1...10_000_000) var count = 1000
    @Option(help: "Random seed.", in: OptionRange.seed) var seed: UInt64 = 1
    @Option(help: "Output JSONL file.") var out: String

    func run() throws {
        let rows = Array(SyntheticArithmetic(seed: seed).prefix(count))
        try RoleJSONL.write(rows, to: URL(fileURLWithPath: out))
        Console.error("wrote \(rows.count) rows to \(out)")
    }
}

struct DataGSMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gsm",
        abstract: "Role data from reasoning-gym's GSM-symbolic generators, split by generator (installs reasoning-gym from PyPI).",
        discussion: "Runs Tools/data/build_gsm_roles.py with python3; its header documents the split and the text rules.")

    @Option(help: "Output directory (train.jsonl, test.jsonl, manifest.json).") var out: String
    @Option(help: "Python interpreter.") var python = "python3"
    @Option(help: "Where reasoning-gym is installed (pip --target).")
    var packages = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-reasoning-gym").path
    @Option(parsing: .remaining, help: "Further arguments for the builder (e.g. --seed 2025 --per-train 30).")
    var builderArguments: [String] = []

    func run() throws {
        guard let script = Self.locateScript() else {
            throw ValidationError("Tools/data/build_gsm_roles.py not found (run from the package checkout)")
        }
        if !FileManager.default.fileExists(atPath: packages + "/reasoning_gym") {
            Console.error("installing reasoning-gym==0.1.25 into \(packages)…")
            try Self.execute(python, ["-m", "pip", "install", "--quiet", "--target", packages, "reasoning-gym==0.1.25"], environment: [:])
        }
        try Self.execute(python, [script, "--out", out] + builderArguments, environment: ["PYTHONPATH": packages])
    }

    static func locateScript() -> String? {
        let relative = "Tools/data/build_gsm_roles.py"
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates = [FileManager.default.currentDirectoryPath + "/" + relative]
        for _ in 0..<5 {
            candidates.append(directory.appendingPathComponent(relative).path)
            directory.deleteLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    static func execute(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("\(executable) \(arguments.first ?? "") failed (exit \(process.terminationStatus))") }
    }
}
