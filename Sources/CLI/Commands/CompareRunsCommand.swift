// `rmas compare-runs`: configurations of several `rmas compare` output directories (other
// systems or settings, the same questions) paired question by question.
import Agents
import ArgumentParser
import Foundation
import Training

struct CompareRunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-runs",
        abstract: "Pair the answers of several rmas compare runs on the same questions (another system, a control, other settings): accuracy with 95% CIs and McNemar's exact test.",
        discussion: """
            Each --run is LABEL=DIR, DIR an rmas compare --out directory. Only the questions every configuration of every run \
            answered count, so every row is on the same questions; runs whose questions expect different answers are refused. \
            Configurations are named LABEL:METHOD@ROUNDS (e.g. v2:latent@2, base:single@1). Without --pair, every two \
            configurations of different runs with the same method and rounds are paired.
            """)

    @Option(name: .customLong("run"), help: "A run as LABEL=DIR (at least two).") var runs: [String] = []
    @Option(name: .customLong("pair"), help: "A pair to test as A,B, each LABEL:METHOD@ROUNDS (repeatable).") var pairs: [String] = []
    @Option(help: "Write report.md and report.json here.") var out: String?
    @Flag(help: "Print the comparison as JSON instead of Markdown.") var json = false

    func run() throws {
        let loaded = try runs.map { spec in
            guard let equals = spec.firstIndex(of: "="), equals != spec.startIndex, spec.index(after: equals) != spec.endIndex else {
                throw ValidationError("--run '\(spec)' is not LABEL=DIR")
            }
            let label = String(spec[..<equals])
            guard !label.contains(":") else { throw ValidationError("--run '\(spec)': a label may not contain ':'") }
            return try RunComparison.Run.load(label: label, directory: URL(fileURLWithPath: String(spec[spec.index(after: equals)...])))
        }
        let requested = try pairs.map { spec in
            let parts = spec.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw ValidationError("--pair '\(spec)' is not A,B") }
            return (try RunComparison.Configuration(parsing: String(parts[0])), try RunComparison.Configuration(parsing: String(parts[1])))
        }
        let comparison = try RunComparison(runs: loaded, pairs: requested.isEmpty ? nil : requested)
        if let out {
            let directory = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try AtomicFile.write(Data(comparison.markdown().utf8), to: directory.appendingPathComponent("report.md"))
            try AtomicFile.write(try comparison.json(), to: directory.appendingPathComponent("report.json"))
        }
        print(json ? String(decoding: try comparison.json(), as: UTF8.self) : comparison.markdown(), terminator: "")
    }
}
