import ArgumentParser
import Foundation
import Training

struct LinksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "links", abstract: "Work with link checkpoints.", subcommands: [LinksExportCommand.self])
}

/// Turns a training checkpoint into the compact form a system ships: weights in fp16 (or bf16),
/// no optimizer state.
struct LinksExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Copy a link checkpoint's latest weights as fp16 safetensors without optimizer state.")

    @Option(help: "Checkpoint directory (from rmas train inner|outer).") var from: String
    @Option(help: "Destination directory.") var to: String
    @Option(help: "Weight dtype: f16, bf16 or f32.") var dtype = SafeTensors.DType.f16

    func run() throws {
        let type = dtype
        let bytes = try CheckpointStore(directory: URL(fileURLWithPath: from))
            .exportCompact(to: CheckpointStore(directory: URL(fileURLWithPath: to)), weightsType: type)
        print(String(format: "%@: %.1f MB", to, Double(bytes) / 1e6))
    }
}

extension SafeTensors.DType: ExpressibleByArgument {
    /// `f16`, `bf16` or `f32` (either case).
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
    public var defaultValueDescription: String { rawValue.lowercased() }
    public static var allValueStrings: [String] { ["f16", "bf16", "f32"] }
}
