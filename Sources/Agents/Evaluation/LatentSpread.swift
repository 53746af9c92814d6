// Provenance: a diagnostic of this project (issue 18), not from the paper. How much of what a graph
// delivers into a slot depends on the question: the latent-shuffled control asks it through the
// answer; this asks it of the rows themselves, before any answer is read.
import Models

/// What inference delivers into one slot for one question: the rows after the edge's outer link.
public struct LatentDelivery: Sendable, Equatable {
    public var round: Int
    /// Sending and receiving node ids, and the receiver's slot.
    public var from: String
    public var to: String
    public var slot: String
    /// `[m × D_to]`, row-major.
    public var rows: [Float]
    public var width: Int
    /// What the sender rolled out before the edge's link, `[m × D_from]` (nil for a yardstick).
    public var sent: [Float]?
    public var sentWidth: Int = 0
}

extension AgentGraph {
    /// Every latent delivery of a latent run of `rounds` rounds on `question`, in the order they
    /// happen (forward only; no answer is decoded). Exactly what ``GraphRunner`` splices into the
    /// receiving prompts.
    public func latentDeliveries(question: String, rounds: Int, latentSteps: Int, threads: Int) throws(AgentError) -> [LatentDelivery] {
        guard rounds >= 1, latentSteps >= 1 else { throw .invalidArgument("rounds and latent steps must be at least 1") }
        var sent: [String: [Float]] = [:]
        var generation = GenerationParameters()
        generation.threads = threads
        let delivered = try GraphRunner(graph: self).deliveries(question: question, answeringAfter: [rounds], latentSteps: latentSteps,
                                                                generation: generation, sent: { sent["\($0)/\($1)"] = $2 })
        var out: [LatentDelivery] = []
        for round in 1...rounds {
            for i in acting(round: round, of: rounds) {
                for edge in incoming(i, round: round) {
                    guard let rows = delivered[GraphRunner.deliveryKey(round: round, node: i, marker: edge.marker)] else { continue }
                    // The sender's rollout: this round's for a forward edge, the previous round's for feedback.
                    let sentRound = edge.direction == .forward ? round : round - 1
                    out.append(LatentDelivery(round: round, from: nodes[edge.from].id, to: nodes[i].id, slot: edge.slot, rows: rows,
                                              width: nodes[i].model.configuration.width, sent: sent["\(sentRound)/\(edge.from)"],
                                              sentWidth: nodes[edge.from].model.configuration.width))
                }
            }
        }
        return out
    }

    /// A yardstick for ``LatentSpread``: rows that certainly carry the question — node `to`'s own
    /// token embeddings of the question text's first `rows` tokens (shorter questions repeat their
    /// last token), shaped as a delivery into that node.
    public func questionTokenRows(question: String, to node: Int, rows m: Int) throws(AgentError) -> LatentDelivery {
        guard nodes.indices.contains(node), m >= 1 else { throw .invalidArgument("no node \(node), or no rows") }
        let model = nodes[node].model
        var tokens = model.tokenizer.encode(question, parseSpecial: false)
        guard let last = tokens.last else { throw .invalidArgument("the question has no tokens") }
        tokens = Array(tokens.prefix(m)) + [Int32](repeating: last, count: max(0, m - tokens.count))
        return LatentDelivery(round: 1, from: "question", to: nodes[node].id, slot: "question tokens",
                              rows: model.transformer.embeddings(tokens), width: model.configuration.width)
    }
}

/// The question-dependence of each slot's delivered rows over N questions. With L_q the rows
/// `[m × D]` question q receives there and μ their mean over the questions, ``Measures``:
///
/// - `rms`: √(mean over q, rows and columns of L_q²), the rows' size;
/// - `questionPart`: √(mean ‖L_q − μ‖²) / √(mean ‖L_q‖²), the share of that size that differs
///   between questions (0: every question receives the same rows, a fixed prompt; 1: the rows
///   average to zero) — also per row `t`;
/// - `crossCosine`: the mean cosine of two different questions' rows at the same position.
///
/// A link whose rows are nearly the same for every question can only act as a prompt all questions
/// share, whatever it was trained for.
public struct LatentSpread: Sendable, Equatable {
    /// rms, question part (overall and per row) and cross-question cosine of one set of rows.
    public struct Measures: Sendable, Equatable {
        public var rms: Double
        public var questionPart: Double
        public var questionPartByRow: [Double]
        public var crossCosine: Double
    }

    public struct Slot: Sendable, Equatable {
        public var round: Int
        public var from: String
        public var to: String
        public var slot: String
        public var rows: Int
        /// The rows the receiver gets, after the link.
        public var delivered: Measures
        /// The sender's rows before the link (nil for a yardstick).
        public var sent: Measures?
    }

    public var questions: Int
    public var slots: [Slot]

    /// `deliveries[q]` is question q's ``AgentGraph/latentDeliveries(question:rounds:latentSteps:threads:)``;
    /// every question must have the same deliveries (same graph and rounds) and there must be at least two.
    public init(deliveries: [[LatentDelivery]]) throws(AgentError) {
        guard deliveries.count >= 2 else { throw .invalidArgument("the spread of the latents needs at least two questions") }
        let first = deliveries[0]
        for other in deliveries.dropFirst() {
            guard other.count == first.count, zip(other, first).allSatisfy({
                $0.round == $1.round && $0.to == $1.to && $0.slot == $1.slot && $0.rows.count == $1.rows.count && $0.width == $1.width
            }) else { throw .invalidArgument("the questions' runs delivered different slots or sizes") }
        }
        questions = deliveries.count
        slots = try first.indices.map { k throws(AgentError) in
            let d = first[k]
            var sent: Measures?
            if d.sent != nil {
                let runs = deliveries.compactMap { $0[k].sent }
                guard runs.count == deliveries.count, runs.allSatisfy({ $0.count == runs[0].count }) else {
                    throw .invalidArgument("the questions' runs sent different sizes")
                }
                sent = Self.measures(runs, width: d.sentWidth)
            }
            return Slot(round: d.round, from: d.from, to: d.to, slot: d.slot, rows: d.rows.count / max(d.width, 1),
                        delivered: Self.measures(deliveries.map { $0[k].rows }, width: d.width), sent: sent)
        }
    }

    /// The measures of N equally sized `[m × width]` row sets.
    private static func measures(_ runs: [[Float]], width: Int) -> Measures {
        let n = runs.count, count = runs[0].count, width = max(width, 1), m = count / width
        var mean = [Double](repeating: 0, count: count)
        for run in runs { for j in 0..<count { mean[j] += Double(run[j]) } }
        for j in 0..<count { mean[j] /= Double(n) }
        var totalByRow = [Double](repeating: 0, count: m), spreadByRow = [Double](repeating: 0, count: m)
        for run in runs {
            for t in 0..<m {
                var total = 0.0, spread = 0.0
                for j in t * width..<(t + 1) * width {
                    let x = Double(run[j]), e = x - mean[j]
                    total += x * x
                    spread += e * e
                }
                totalByRow[t] += total
                spreadByRow[t] += spread
            }
        }
        let total = totalByRow.reduce(0, +), spread = spreadByRow.reduce(0, +)
        var cosine = 0.0, pairs = 0
        for a in 0..<n {
            for b in (a + 1)..<n {
                for t in 0..<m {
                    var ab = 0.0, aa = 0.0, bb = 0.0
                    for j in t * width..<(t + 1) * width {
                        let x = Double(runs[a][j]), y = Double(runs[b][j])
                        ab += x * y
                        aa += x * x
                        bb += y * y
                    }
                    if aa > 0, bb > 0 { cosine += ab / (aa * bb).squareRoot(); pairs += 1 }
                }
            }
        }
        return Measures(rms: (total / Double(n * max(count, 1))).squareRoot(),
                    questionPart: total > 0 ? (spread / total).squareRoot() : 0,
                    questionPartByRow: zip(spreadByRow, totalByRow).map { $1 > 0 ? ($0 / $1).squareRoot() : 0 },
                    crossCosine: pairs > 0 ? cosine / Double(pairs) : 0)
    }
}
