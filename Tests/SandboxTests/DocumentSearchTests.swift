// The offline search tool: tokenisation, BM25 scores against the formula worked by hand, ranking
// over a small collection written by the test, result formatting, and typed errors for bad lines.
import Foundation
import Sandbox
import Testing

/// A small collection, one JSON object per line (line 2 is blank on purpose).
private let collectionText = """
    {"title": "Paris", "text": "Paris is the capital and largest city of France.", "url": "https://en.wikipedia.org/wiki/Paris", "id": 1}

    {"title": "Eiffel Tower", "text": "The Eiffel Tower is a wrought-iron lattice tower in Paris, France.\\nIt was completed in 1889."}
    {"title": "Python (programming language)", "text": "Python is a high-level,   general-purpose programming language.", "id": "py"}
    {"title": "Berlin", "text": "Berlin is the capital and largest city of Germany."}
    {"title": "Ball python", "text": "The ball python is a python species native to West and Central Africa."}
    """

/// Writes `text` to a fresh file and returns its path.
private func writeTemporary(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "docs-\(UUID().uuidString).jsonl"
    ).path
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
}

@Suite("Document search (BM25)")
struct DocumentSearchTests {
    @Test("tokens are lowercased maximal runs of letters and digits")
    func tokenize() {
        #expect(BM25Index.tokenize("Don't STOP-2x, café!") == ["don", "t", "stop", "2x", "café"])
        #expect(BM25Index.tokenize("  ") == [])
    }

    @Test("scores match the BM25 formula (k1 1.5, b 0.75) worked by hand")
    func formula() throws {
        let index = BM25Index(texts: ["a b", "a c c", "d"])
        // "c": N = 3, df = 1, |d| = 3, avgdl = 2, tf = 2.
        let idf = log(1 + (3 - 1 + 0.5) / (1 + 0.5))
        let expected = idf * 2 * 2.5 / (2 + 1.5 * (1 - 0.75 + 0.75 * 3 / 2))
        let hits = index.search("c", top: 4)
        try #require(hits.count == 1)
        #expect(hits[0].index == 1)
        #expect(abs(hits[0].score - expected) < 1e-12)
        // "a" is in two of three texts: a positive idf all the same (Lucene's variant).
        #expect(index.idf("a") > 0 && index.idf("a") < index.idf("c"))
        #expect(index.search("zzz", top: 4).isEmpty)
    }

    @Test("the best documents come first, at most `top` of them")
    func ranking() throws {
        let path = try writeTemporary(collectionText)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let search = try DocumentSearch(jsonl: path)
        #expect(search.collection.documents.count == 5)
        #expect(search.collection.documents[0].id == "1")
        #expect(search.search("capital of France").first?.document.title == "Paris")
        #expect(search.search("capital of Germany").first?.document.title == "Berlin")
        #expect(search.search("eiffel tower height").first?.document.title == "Eiffel Tower")
        let python = search.search("python", top: 2)
        #expect(python.map(\.rank) == [1, 2])
        #expect(Set(python.map(\.document.title)) == ["Python (programming language)", "Ball python"])
        #expect(python[0].score >= python[1].score)
        #expect(search.search("capital city", top: 4).count <= 4)
        #expect(search.search("quantum chromodynamics").isEmpty)
    }

    @Test("results read \"[i] title\", \"URL: …\", then the text compacted and cut to 320 characters")
    func format() {
        let long = "word\n\t " + String(repeating: "lorem  ipsum\n", count: 60)
        let hits = [
            SearchHit(
                rank: 1, score: 2,
                document: SearchDocument(title: "First", text: "a  b\n\nc", url: "https://x.org")),
            SearchHit(rank: 2, score: 1, document: SearchDocument(title: "Second", text: long)),
        ]
        let text = DocumentSearch.format(hits)
        let blocks = text.components(separatedBy: "\n\n")
        #expect(blocks.count == 2)
        #expect(blocks[0] == "[1] First\nURL: https://x.org\na b c")
        let second = blocks[1].split(separator: "\n", omittingEmptySubsequences: false)
        #expect(second.count == 2 && second[0] == "[2] Second")
        #expect(second[1].count == 320 && second[1].hasPrefix("word lorem ipsum lorem"))
        #expect(DocumentSearch.format([]) == "No results found.")
    }

    @Test("a malformed line is a typed error naming file and line; blank lines are skipped")
    func malformedLines() throws {
        let good = #"{"title": "t", "text": "x"}"#
        let cases: [(String, Int, String)] = [
            ("not json", 3, "not a JSON object"),
            (#"{"title": "t"}"#, 3, "missing field \"text\""),
            (#"{"title": 7, "text": "x"}"#, 3, "field \"title\" must be a string"),
            (#"["title", "text"]"#, 3, "not a JSON object"),
        ]
        for (line, number, reason) in cases {
            let path = try writeTemporary([good, "", line, good].joined(separator: "\n"))
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(throws: DocumentSearchError.malformedLine(path: path, line: number, reason: reason)) {
                try DocumentCollection.load(jsonl: path)
            }
        }
        #expect(throws: DocumentSearchError.self) {
            try DocumentCollection.load(jsonl: "/nonexistent/docs.jsonl")
        }
        let parsed = try DocumentCollection.parse(
            jsonl: Data("\(good)\n\n  \n\(good)\n".utf8), source: "inline")
        #expect(parsed.documents.count == 2)
    }
}
