// `--data`, `--held-out` and `--held-out-count` of both training commands: which rows train and
// which measure the held-out loss.
import ArgumentParser
import Foundation
import RoleData

enum TrainingRows {
    /// The rows of `data`, and the held-out rows: those of `heldOut` when given, else the last
    /// `heldOutCount` of `data`. An empty file, or one too small to hold that many out and keep
    /// one to train on, is refused, naming it.
    static func read(data: String, heldOut: String?, heldOutCount: Int) throws -> (train: [DataRow], heldOut: [DataRow]) {
        var rows = try DataRow.read(from: URL(fileURLWithPath: data))
        guard !rows.isEmpty else { throw ValidationError("--data \(data) holds no rows") }
        if let heldOut {
            let held = try DataRow.read(from: URL(fileURLWithPath: heldOut))
            guard !held.isEmpty else { throw ValidationError("--held-out \(heldOut) holds no rows") }
            return (rows, held)
        }
        guard heldOutCount < rows.count else {
            throw ValidationError("--data \(data) holds \(rows.count) rows: too few to hold out --held-out-count \(heldOutCount) and train on the rest (lower it, or pass --held-out FILE)")
        }
        let n = heldOutCount
        let held = Array(rows.suffix(n))
        rows.removeLast(n)
        return (rows, held)
    }
}
