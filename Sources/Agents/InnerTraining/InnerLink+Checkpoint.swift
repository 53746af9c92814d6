import Foundation
import Links
import Training

extension InnerLink {
    /// The inner link saved by ``InnerTrainer`` in `directory` (its latest checkpoint), checked
    /// against the model's width.
    public static func load(checkpoint directory: URL, width: Int) throws(AgentError) -> InnerLink {
        do {
            let (manifest, weights, _) = try CheckpointStore(directory: directory).load()
            guard let entry = manifest.links.first, manifest.kind == "inner" else {
                throw AgentError.checkpoint("\(directory.path) holds no inner link")
            }
            guard entry.inputWidth == width else {
                throw AgentError.checkpoint("the link is \(entry.inputWidth) wide, the model \(width)")
            }
            let fresh = InnerLink(kind: try InnerLinkKind(name: entry.kind), width: width, prefix: "inner.", seed: 0)
            try CheckpointStore.restore(fresh.parameters, from: weights)
            return fresh
        } catch let error as AgentError {
            throw error
        } catch {
            throw .checkpoint("\(error)")
        }
    }

    /// The link as the rollout's hidden → embedding map (one row per call).
    public var hiddenToEmbedding: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void {
        let d = width
        return { hidden, embedding in
            let out = self(Array(UnsafeBufferPointer(start: hidden, count: d)), rows: 1)
            embedding.update(from: out, count: d)
        }
    }
}
