// What identifies a model file in link checkpoints: the catalog's pinned digest for a registry
// model the store has verified, else the file's own SHA-256.
import Foundation

public enum ModelIdentity {
    /// The SHA-256 (hex) that identifies the GGUF at `path`.
    public static func sha256(of path: String) throws -> String {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        if let entry = ModelCatalog.model(named: name), ModelStore().isVerified(entry) { return entry.sha256 }
        return try SHA256.hexDigest(ofFile: path)
    }
}
