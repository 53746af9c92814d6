import ArgumentParser
import Foundation
import RoleData

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Build role data (JSONL rows: question, plan, refined_plan, answer).",
        subcommands: [DataSyntheticCommand.self])
}

struct DataSyntheticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthetic", abstract: "Multi-step arithmetic word problems with derived plans and answers (deterministic per seed).")

    @Option(help: "Rows to write.") var count = 1000
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Output JSONL file.") var out: String

    func run() throws {
        let rows = Array(SyntheticArithmetic(seed: seed).prefix(count))
        try RoleJSONL.write(rows, to: URL(fileURLWithPath: out))
        Console.error("wrote \(rows.count) rows to \(out)")
    }
}
