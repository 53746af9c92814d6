import ArgumentParser
import Foundation
import RoleData
import Training

/// What every graph trainer (`train outer`, `train prompt`) asks besides its recipe: held-out rows,
/// the checkpoint directory, checkpoint and evaluation intervals, threads and resume.
struct TrainingRunArguments: ParsableArguments {
    @Option(help: "Held-out rows for the evaluation loss (JSONL). Default: the last --held-out-count rows of --data.")
    var heldOut: String?
    @Option(help: "Rows taken from the end of --data as held-out when --held-out is not given.", in: OptionRange.rows)
    var heldOutCount = 16
    @Option(help: "Checkpoint directory (created if needed).")
    var out: String
    @Option(help: "Save a checkpoint every N steps.", in: OptionRange.steps) var checkpointEvery = 50
    @Option(help: "Evaluate the held-out loss every N steps.", in: OptionRange.steps) var evalEvery = 50
    @Option(help: "Worker threads.", in: OptionRange.threads) var threads = 2
    @Flag(help: "Continue from the checkpoint in --out (its log.jsonl is continued too).") var resume = false
    @OptionGroup var stopAfterArgument: StopAfterArgument

    var output: URL { URL(fileURLWithPath: out) }

    /// Refuses an existing checkpoint without --resume, then reads the training and held-out rows.
    func rows(data: String) throws -> (train: [DataRow], heldOut: [DataRow]) {
        if CheckpointStore(directory: output).exists, !resume {
            throw CommandFailure("\(out) already holds a checkpoint; pass --resume to continue it, or choose another --out")
        }
        return try TrainingRows.read(data: data, heldOut: heldOut, heldOutCount: heldOutCount)
    }
}
