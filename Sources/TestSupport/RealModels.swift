import Foundation
import ModelFetch

/// Locates the real models for tests.
///
/// Tests that need a real model are enabled when it is present in the model store
/// (`RMAS_MODELS_DIR`, see ``ModelStore``). When `RMAS_REQUIRE_MODELS=1` (as CI sets after
/// fetching), a missing model must fail the test instead of disabling it: use ``require(_:)``.
public enum RealModels {
    public static var isRequired: Bool { ProcessInfo.processInfo.environment["RMAS_REQUIRE_MODELS"] == "1" }

    /// The model's file path if it is present (size-checked), else nil.
    public static func path(for name: String) -> String? {
        guard let model = ModelCatalog.model(named: name) else { return nil }
        let store = ModelStore()
        let path = store.path(of: model)
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue
        return size == model.byteCount ? path : nil
    }

    /// Whether a test needing `name` should run: the model is present, or it is required (then
    /// the test runs and fails loudly on the missing file).
    public static func available(_ name: String) -> Bool { isRequired || path(for: name) != nil }

    /// The model path, or a thrown error naming what is missing.
    public static func require(_ name: String) throws -> String {
        guard let path = path(for: name) else {
            throw ModelFetchError.notFetched(model: name, path: ModelStore().directory + "/\(name).gguf")
        }
        return path
    }
}
