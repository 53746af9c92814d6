import Foundation

/// The CLI's only output channels: results on stdout, progress and statistics on stderr.
enum Console {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    static var isTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}
