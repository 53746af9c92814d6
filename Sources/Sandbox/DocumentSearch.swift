// The deliberation agent's offline search tool: BM25 over a local DocumentCollection, results
// rendered like the reference's Tavily tool (spec §4.4): "[i] title", "URL: …", then the content
// whitespace-compacted and cut to 320 characters.
import Foundation

/// One ranked result.
public struct SearchHit: Sendable, Equatable {
    /// 1-based position in the ranking.
    public var rank: Int
    /// BM25 score (higher is better).
    public var score: Double
    public var document: SearchDocument

    public init(rank: Int, score: Double, document: SearchDocument) {
        self.rank = rank
        self.score = score
        self.document = document
    }
}

/// Searches a local document collection.
public struct DocumentSearch: Sendable {
    public let collection: DocumentCollection
    private let index: BM25Index

    /// Indexes the collection (title and text of each document) with BM25 parameters `k1`, `b`.
    public init(collection: DocumentCollection, k1: Double = 1.5, b: Double = 0.75) {
        self.collection = collection
        self.index = BM25Index(texts: collection.documents.map { $0.title + "\n" + $0.text }, k1: k1, b: b)
    }

    /// Loads a JSONL collection (see ``DocumentCollection/load(jsonl:)``) and indexes it.
    public init(jsonl path: String) throws(DocumentSearchError) {
        self.init(collection: try DocumentCollection.load(jsonl: path))
    }

    /// The `top` best documents for `query`, best first; none when no word matches.
    public func search(_ query: String, top: Int = 4) -> [SearchHit] {
        index.search(query, top: top).enumerated().map { position, hit in
            SearchHit(rank: position + 1, score: hit.score, document: collection.documents[hit.index])
        }
    }

    /// The tool result text for `query`: the top 4 hits, formatted.
    public func callAsFunction(_ query: String) -> String {
        Self.format(search(query))
    }

    /// "[i] title", "URL: url" (when the document has one), and the text compacted and cut to
    /// `snippetCharacters`; hits separated by a blank line. "No results found." when empty.
    public static func format(_ hits: [SearchHit], snippetCharacters: Int = 320) -> String {
        guard !hits.isEmpty else { return "No results found." }
        return hits.map { hit in
            var lines = ["[\(hit.rank)] \(compact(hit.document.title))"]
            if let url = hit.document.url, !url.isEmpty { lines.append("URL: \(url)") }
            lines.append(String(compact(hit.document.text).prefix(max(0, snippetCharacters))))
            return lines.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    /// Runs of whitespace (newlines included) become one space; ends trimmed.
    public static func compact(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
