// `--data`, `--held-out` and `--held-out-count` of both training commands: which rows train and
// which measure the held-out loss.
import ArgumentParser
import Foundation
import RoleData

enum TrainingRows {
    /// The rows of `data`, and the held-out rows: those of `heldOut` when given, else the last
    /// `heldOutCount` of `data` (at most all but one). An empty file is refused, naming it.
    static func read(data: String, heldOut: String?, heldOutCount: Int) throws -> (train: [DataRow], heldOut: [DataRow]) {
        var rows = try DataRow.read(from: URL(fileURLWithPath: data))
        guard !rows.isEmpty else { throw ValidationError("--data \(data) holds no rows") }
        if let heldOut {
            let held = try DataRow.read(from: URL(fileURLWithPath: heldOut))
            guard !held.isEmpty else { throw ValidationError("--held-out \(heldOut) holds no rows") }
            return (rows, held)
        }
        let n = min(heldOutCount, rows.count - 1)
        let held = Array(rows.suffix(n))
        rows.removeLast(n)
        return (rows, held)
    }
}
