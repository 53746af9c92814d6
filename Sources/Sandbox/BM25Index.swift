// Okapi BM25 ranking (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and
// Beyond", 2009) with Lucene's non-negative idf, over lowercase alphanumeric tokens.
import Foundation

/// An inverted index over a fixed list of texts, ranked by BM25:
///
///     score(q, d) = Σ_{t ∈ q} idf(t) · tf(t, d) · (k1 + 1) / (tf(t, d) + k1 · (1 − b + b · |d| / avgdl))
///     idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
///
/// N = number of texts, df = texts containing t, |d| = tokens in d, avgdl = mean |d|. Each
/// distinct query term counts once.
public struct BM25Index: Sendable {
    /// Term-frequency saturation.
    public let k1: Double
    /// Length normalisation (0: none, 1: full).
    public let b: Double
    /// Number of indexed texts.
    public var count: Int { lengths.count }

    private struct Posting: Sendable {
        var text: Int
        var frequency: Int
    }

    private let postings: [String: [Posting]]
    private let lengths: [Int]
    private let averageLength: Double

    /// Indexes `texts`; their positions are the indices that ``search(_:top:)`` returns.
    public init(texts: [String], k1: Double = 1.5, b: Double = 0.75) {
        self.k1 = k1
        self.b = b
        var postings: [String: [Posting]] = [:]
        var lengths: [Int] = []
        lengths.reserveCapacity(texts.count)
        for (index, text) in texts.enumerated() {
            let tokens = Self.tokenize(text)
            lengths.append(tokens.count)
            var frequencies: [String: Int] = [:]
            for token in tokens { frequencies[token, default: 0] += 1 }
            for (token, frequency) in frequencies {
                postings[token, default: []].append(Posting(text: index, frequency: frequency))
            }
        }
        self.postings = postings
        self.lengths = lengths
        self.averageLength = lengths.isEmpty ? 0 : Double(lengths.reduce(0, +)) / Double(lengths.count)
    }

    /// Lowercased maximal runs of letters and digits ("Don't stop-2x" → ["don", "t", "stop", "2x"]).
    public static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                tokens.append(current)
                current = ""
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// The inverse document frequency of `term` (already tokenized); 0 for an unknown term.
    public func idf(_ term: String) -> Double {
        guard let documentFrequency = postings[term]?.count else { return 0 }
        let n = Double(count)
        let df = Double(documentFrequency)
        return log(1 + (n - df + 0.5) / (df + 0.5))
    }

    /// The best `top` texts for `query`: (index, score), highest score first, ties by index; texts
    /// sharing no term with the query are left out.
    public func search(_ query: String, top: Int) -> [(index: Int, score: Double)] {
        guard top > 0, averageLength > 0 else { return [] }
        var scores: [Int: Double] = [:]
        for term in Set(Self.tokenize(query)) {
            guard let list = postings[term] else { continue }
            let weight = idf(term)
            for posting in list {
                let tf = Double(posting.frequency)
                let norm = k1 * (1 - b + b * Double(lengths[posting.text]) / averageLength)
                scores[posting.text, default: 0] += weight * tf * (k1 + 1) / (tf + norm)
            }
        }
        let ranked = scores.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        return ranked.prefix(top).map { (index: $0.key, score: $0.value) }
    }
}
