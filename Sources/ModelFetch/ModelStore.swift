import Foundation

/// Where fetched models live, and how a `--model` argument (registry name or path) resolves.
///
/// The directory is `$RMAS_MODELS_DIR` if set, else `$XDG_CACHE_HOME/rmas/models`, else
/// `~/.cache/rmas/models`. Each model is stored as `<name>.gguf` with a `<name>.gguf.sha256`
/// stamp written only after its checksum verified, plus any licence files beside it.
public struct ModelStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(directory: Self.defaultDirectory(environment: environment))
    }

    public static func defaultDirectory(environment: [String: String]) -> String {
        if let explicit = environment["RMAS_MODELS_DIR"], !explicit.isEmpty { return explicit }
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return cache + "/rmas/models" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.cache/rmas/models"
    }

    public func path(of model: CatalogModel) -> String { directory + "/" + model.fileName }

    /// True when the model file exists and passes the cheap integrity check (``state(of:)``).
    public func isVerified(_ model: CatalogModel) -> Bool { state(of: model) == .verified }

    /// Resolves a `--model` argument: an existing file path is used as is; a catalog name maps
    /// to its verified file in this store. Throws ``ModelFetchError/notFetched`` for a known but
    /// absent model and ``ModelFetchError/corrupt`` for one whose file changed since it was
    /// verified, so callers can offer to (re)fetch it.
    public func resolve(_ spec: String) throws(ModelFetchError) -> String {
        if let model = ModelCatalog.model(named: spec) {
            switch state(of: model) {
            case .verified: return path(of: model)
            case .absent: throw .notFetched(model: spec, path: path(of: model))
            case .corrupt(let detail): throw .corrupt(model: spec, path: path(of: model), detail: detail)
            }
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory), !isDirectory.boolValue {
            return spec
        }
        if spec.contains("/") || spec.hasSuffix(".gguf") { throw .fileNotFound(spec) }
        throw .unknownModel(spec, known: ModelCatalog.all.map(\.name))
    }
}
