// `--system FILE|PRESET`: which agent graph a command builds, loaded through the library's
// GraphLoader (models fetched on first use, checkpoints for other models refused).
import Agents
import ArgumentParser
import Foundation

/// `--system`, shared by the commands that build an agent graph.
struct SystemArguments: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A system file (JSON agent graph) or a preset: \(Presets.names.joined(separator: ", ")).",
        discussion: "Default: the shipped sequential math system (Qwen2.5-0.5B planner → SmolLM2-135M critic → Qwen2.5-0.5B solver, trained links)."))
    var system: String?

    /// The system file: a preset's bundled file, or the path given.
    var url: URL { Presets.url(system ?? "sequential") ?? URL(fileURLWithPath: system!) }

    /// Reads and validates the file.
    func definition() throws -> GraphDefinition { try GraphDefinition.load(url) }

    /// Builds the graph, fetching registry models that are missing. With `latent`, untrained links
    /// are warned about and checkpoints trained for other model files are refused.
    func load(_ definition: GraphDefinition, latent: Bool = true) throws -> LoadedGraph {
        let loaded = try LoadedGraph.load(url, definition: definition, resolveModel: resolveModelPath, checkProvenance: latent)
        if latent, !loaded.untrainedLinks.isEmpty {
            Console.error("warning: links without a checkpoint are freshly initialised (untrained): \(loaded.untrainedLinks.joined(separator: ", "))")
        }
        return loaded
    }
}

/// The system files that ship inside the executable.
enum Presets {
    /// `sequential` is the shipped default system (trained links); the others are the paper's
    /// other styles over this project's models.
    static let names = ["sequential", "mixture", "distillation", "deliberation"]

    /// The bundled file of preset `name`, nil for anything else.
    static func url(_ name: String) -> URL? {
        guard names.contains(name), let resources = Bundle.module.resourceURL else { return nil }
        if name == "sequential" { return resources.appendingPathComponent("DefaultSystem/system.json") }
        return resources.appendingPathComponent("Presets/\(name).json")
    }
}
