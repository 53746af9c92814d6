import Foundation

/// A one-line progress bar on stderr when it is a terminal; plain lines otherwise (every
/// `plainEvery` steps and for important updates), so logs stay readable.
final class ProgressLine {
    let total: Int
    let plainEvery: Int
    let terminal = Console.isTerminal

    init(total: Int, plainEvery: Int? = nil) {
        self.total = max(total, 1)
        self.plainEvery = plainEvery ?? max(1, total / 50)
    }

    func update(step: Int, text: String, important: Bool = false) {
        if terminal {
            let width = 24, filled = min(width, width * step / total)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(bar) \(step)/\(total) \(text)".utf8))
            if important, text.contains("held-out") { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if important || step % plainEvery == 0 || step == total {
            Console.error("step \(step)/\(total) \(text)")
        }
    }

    func finish() { if terminal { FileHandle.standardError.write(Data("\n".utf8)) } }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
