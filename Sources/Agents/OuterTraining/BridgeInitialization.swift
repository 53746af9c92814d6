// Provenance: the "aligned bridge" initialisation of outer links (spec §2.6, a fork's addition,
// not the official recipe): pooled, inner-linked hidden states of paired texts on the source and
// target agents, a ridge map W = ((AᵀA + λN·I)⁻¹ AᵀB)ᵀ rescaled by mean‖B‖/mean‖A‖, placed in the
// link's linear path. Our deviations, per the spec's caveat: the MLP branch keeps its random
// initialisation scaled down (not constant fills, which leave its units identical), and a
// LayerNorm on the output gets γ, β from B's spread and mean so the link starts at B's scale.
import Foundation
import Kernels
import Links
import Models
import RoleData
import Training

/// How well a bridge's ridge map fits its pairs.
public struct BridgeFit: Sendable, Equatable {
    public var pairs: Int
    /// ‖A·Wᵀ − B‖² / ‖B − mean(B)‖² on the fitting pairs, before rescaling (0: exact, 1: no better than the mean).
    public var relativeResidual: Double
}

public enum BridgeInitialization {
    /// The ridge map `[dt × ds]` (row-major) from rows of `a` `[n × ds]` to rows of `b` `[n × dt]`,
    /// minimising ‖A·Wᵀ − B‖² + λ·n·‖W‖², and its fit.
    public static func ridge(source a: [Float], target b: [Float], rows n: Int, lambda: Double = 1e-4) throws(AgentError) -> (map: [Float], fit: BridgeFit) {
        guard n > 0, a.count % n == 0, b.count % n == 0 else { throw .invalidArgument("bridge: rows do not divide the data") }
        let ds = a.count / n, dt = b.count / n
        // Normal equations in Float64: G = AᵀA + λn·I (ds × ds), R = AᵀB (ds × dt).
        var g = [Double](repeating: 0, count: ds * ds), r = [Double](repeating: 0, count: ds * dt)
        for k in 0..<n {
            let ak = a[(k * ds)..<((k + 1) * ds)].map(Double.init), bk = b[(k * dt)..<((k + 1) * dt)].map(Double.init)
            for i in 0..<ds where ak[i] != 0 {
                let x = ak[i]
                for j in i..<ds { g[i * ds + j] += x * ak[j] }
                for j in 0..<dt { r[i * dt + j] += x * bk[j] }
            }
        }
        for i in 0..<ds {
            g[i * ds + i] += lambda * Double(n)
            for j in 0..<i { g[i * ds + j] = g[j * ds + i] }
        }
        guard let x = choleskySolve(g, r, size: ds, columns: dt) else {
            throw .invalidArgument("bridge: the regularised normal equations are not positive definite (non-finite features?)")
        }
        var map = [Float](repeating: 0, count: dt * ds)  // W = Xᵀ
        for i in 0..<ds { for j in 0..<dt { map[j * ds + i] = Float(x[i * dt + j]) } }
        // Fit on the pairs.
        var residual = 0.0, spread = 0.0
        var mean = [Double](repeating: 0, count: dt)
        for k in 0..<n { for j in 0..<dt { mean[j] += Double(b[k * dt + j]) / Double(n) } }
        for k in 0..<n {
            for j in 0..<dt {
                var p = 0.0
                for i in 0..<ds { p += Double(a[k * ds + i]) * x[i * dt + j] }
                let t = Double(b[k * dt + j])
                residual += (p - t) * (p - t)
                spread += (t - mean[j]) * (t - mean[j])
            }
        }
        return (map, BridgeFit(pairs: n, relativeResidual: spread > 0 ? residual / spread : 0))
    }

    /// Solves G·X = R for symmetric positive-definite G `[s × s]`, R `[s × c]`; nil if G is not SPD.
    static func choleskySolve(_ g: [Double], _ r: [Double], size s: Int, columns c: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: s * s)
        for j in 0..<s {
            var diagonal = g[j * s + j]
            for k in 0..<j { diagonal -= l[j * s + k] * l[j * s + k] }
            guard diagonal > 0, diagonal.isFinite else { return nil }
            let root = diagonal.squareRoot()
            l[j * s + j] = root
            for i in (j + 1)..<max(j + 1, s) {
                var v = g[i * s + j]
                for k in 0..<j { v -= l[i * s + k] * l[j * s + k] }
                l[i * s + j] = v / root
            }
        }
        var x = r
        for col in 0..<c {  // L·y = r, then Lᵀ·x = y, column by column
            for i in 0..<s {
                var v = x[i * c + col]
                for k in 0..<i { v -= l[i * s + k] * x[k * c + col] }
                x[i * c + col] = v / l[i * s + i]
            }
            for i in stride(from: s - 1, through: 0, by: -1) {
                var v = x[i * c + col]
                for k in (i + 1)..<max(i + 1, s) { v -= l[k * s + i] * x[k * c + col] }
                x[i * c + col] = v / l[i * s + i]
            }
        }
        return x
    }

    /// Mean over tokens of the post-final-norm hidden states of each text (no chat format, BOS per
    /// the tokenizer, at most `maximumLength` tokens), through the agent's inner link: `[n × D]`.
    public static func pooledFeatures(_ agent: AgentGraph.Node, texts: [String], maximumLength: Int = 2048,
                                      threads: Int = Parallel.defaultThreadCount) -> [Float] {
        let transformer = agent.model.transformer, d = transformer.configuration.width
        var pooled = [Float](); pooled.reserveCapacity(texts.count * d)
        for text in texts {
            let tokens = Array(agent.model.tokenizer.encode(text, addBOS: agent.model.tokenizer.addBOSByDefault, parseSpecial: false)
                .prefix(maximumLength))
            let cache = KVCache(configuration: transformer.configuration, capacity: max(tokens.count, 1))
            let hidden = transformer.forward(tokens: tokens, cache: cache, outputs: .all, logits: false, threads: threads).hidden
            var mean = [Float](repeating: 0, count: d)
            for t in 0..<tokens.count { for j in 0..<d { mean[j] += hidden[t * d + j] } }
            pooled += mean.map { $0 / Float(max(tokens.count, 1)) }
        }
        return agent.inner(pooled, rows: texts.count)
    }

    /// Puts the rescaled ridge map into `link`'s linear path (`residual_proj`, or `proj1` for the
    /// linear adapter), zeroes that layer's bias, shrinks the other branch's last layer by 1e-3,
    /// and for LayerNorm kinds sets `ln_target` to B's per-row spread and mean.
    public static func apply(map: [Float], source a: [Float], target b: [Float], rows n: Int, to link: OuterLink) throws(AgentError) {
        let ds = link.inputWidth, dt = link.outputWidth, p = link.parameters, prefix = link.network.prefix
        func norms(_ x: [Float], _ w: Int) -> Double {
            (0..<n).reduce(0.0) { s, k in s + Double(x[(k * w)..<((k + 1) * w)].reduce(0) { $0 + $1 * $1 }).squareRoot() } / Double(n)
        }
        let scale = Float(norms(b, dt) / max(norms(a, ds), 1e-12))
        let linear: String, branch: String?
        switch link.kind {
        case .layerNormResidualAdapter, .residualAdapter: (linear, branch) = ("residual_proj", "proj2")
        case .linearResidualAdapter: (linear, branch) = ("residual_proj", "proj1")
        case .linearAdapter: (linear, branch) = ("proj1", nil)
        case .adapter, .layerNormAdapter:
            throw .invalidArgument("bridge initialisation needs a linear path; \(link.kind.rawValue) has none")
        }
        p[name: prefix + linear + ".weight"]!.values = map.map { $0 * scale }
        p[name: prefix + linear + ".bias"]!.values = [Float](repeating: 0, count: dt)
        if let branch {
            p[name: prefix + branch + ".weight"]!.values = p[name: prefix + branch + ".weight"]!.values.map { $0 * 1e-3 }
            p[name: prefix + branch + ".bias"]!.values = [Float](repeating: 0, count: dt)
        }
        if link.kind.usesLayerNorm {
            var mean = [Double](repeating: 0, count: dt)
            for k in 0..<n { for j in 0..<dt { mean[j] += Double(b[k * dt + j]) / Double(n) } }
            var spread = 0.0
            for k in 0..<n { for j in 0..<dt { let v = Double(b[k * dt + j]) - mean[j]; spread += v * v } }
            let rms = Float((spread / Double(n * dt)).squareRoot())
            p[name: prefix + "ln_target.weight"]!.values = [Float](repeating: rms, count: dt)
            p[name: prefix + "ln_target.bias"]!.values = mean.map { Float($0) }
        }
    }
}

extension AgentGraph {
    /// Bridge-initialises every outer link from `limit` rows that carry every node's target,
    /// evenly spaced through `rows` (data is often grouped by template; the reference takes the
    /// first rows), and returns each fit by edge name. The pairs are read from the edges: for an
    /// edge s → t, A is what node s reads (its incoming forward slots' source targets, or the
    /// question for a node without any) on s's model, and B is what s passes on (its own target)
    /// on t's model. For the sequential graph this is spec §2.6's question → plan and plan →
    /// refined plan; for the feedback edge solver → planner it pairs refined plan → answer where
    /// the reference fork pairs answer → question.
    public func bridgeInitialize(rows: [DataRow], limit: Int = 300, lambda: Double = 1e-4,
                                 threads: Int = Parallel.defaultThreadCount) throws(AgentError) -> [String: BridgeFit] {
        let fields = trainingFields
        guard fields.count == nodes.count else { throw .invalidArgument("bridge initialisation needs a \"target\" field on every node") }
        let complete = rows.filter { row in fields.allSatisfy { !(row[$0] ?? "").isEmpty } }
        let take = min(limit, complete.count)
        let usable = (0..<take).map { complete[$0 * complete.count / max(take, 1)] }
        guard usable.count >= 10 else { throw .invalidArgument("bridge initialisation needs at least 10 complete rows, got \(usable.count)") }
        /// What node `s` reads: its forward sources' targets joined, or the question.
        func input(_ s: Int, _ row: DataRow) -> String {
            let sources = edges.filter { $0.to == s && $0.direction == .forward }.compactMap { nodes[$0.from].target.flatMap { row[$0] } }
            return sources.isEmpty ? row.question : sources.joined(separator: "\n\n")
        }
        var fits: [String: BridgeFit] = [:]
        for k in edges.indices {
            let (s, t) = (edges[k].from, edges[k].to)
            let a = BridgeInitialization.pooledFeatures(nodes[s], texts: usable.map { input(s, $0) }, threads: threads)
            let b = BridgeInitialization.pooledFeatures(nodes[t], texts: usable.map { $0[nodes[s].target!]! }, threads: threads)
            let (map, fit) = try BridgeInitialization.ridge(source: a, target: b, rows: usable.count, lambda: lambda)
            try BridgeInitialization.apply(map: map, source: a, target: b, rows: usable.count, to: edges[k].link)
            fits[edgeName(k)] = fit
        }
        return fits
    }
}
