// The local document collection behind the deliberation agent's offline "search" tool (standing in
// for the reference's Tavily web search, spec §4.4): one JSON object per line with "title" and
// "text", optionally "url" and "id".
import Foundation

/// One searchable document.
public struct SearchDocument: Sendable, Equatable, Codable {
    public var title: String
    public var text: String
    public var url: String?
    /// Free-form identifier (a JSON number is kept as its decimal text).
    public var id: String?

    public init(title: String, text: String, url: String? = nil, id: String? = nil) {
        self.title = title
        self.text = text
        self.url = url
        self.id = id
    }

    private enum CodingKeys: String, CodingKey { case title, text, url, id }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.decode(String.self, forKey: .title)
        text = try container.decode(String.self, forKey: .text)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        if let number = try? container.decodeIfPresent(Int.self, forKey: .id) {
            id = String(number)
        } else {
            id = try container.decodeIfPresent(String.self, forKey: .id)
        }
    }
}

/// A collection that could not be loaded.
public enum DocumentSearchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// Line `line` (1-based) is not a JSON object with string fields "title" and "text".
    case malformedLine(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read document collection \(path): \(reason)"
        case .malformedLine(let path, let line, let reason):
            "\(path):\(line): \(reason); each line must be a JSON object with string fields \"title\" and \"text\" (optional \"url\", \"id\")"
        }
    }
}

/// Documents in file order.
public struct DocumentCollection: Sendable, Equatable {
    public var documents: [SearchDocument]

    public init(documents: [SearchDocument]) {
        self.documents = documents
    }

    /// Reads a JSONL file. Blank lines are skipped; any other line that is not a valid document
    /// throws ``DocumentSearchError/malformedLine(path:line:reason:)``.
    public static func load(jsonl path: String) throws(DocumentSearchError) -> DocumentCollection {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        return try parse(jsonl: data, source: path)
    }

    /// Parses JSONL text; `source` names it in errors.
    public static func parse(jsonl data: Data, source: String) throws(DocumentSearchError)
        -> DocumentCollection
    {
        let decoder = JSONDecoder()
        var documents: [SearchDocument] = []
        for (offset, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .enumerated()
        {
            let number = offset + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }  // blank
            guard String(validating: line, as: UTF8.self) != nil else {
                throw .malformedLine(path: source, line: number, reason: "not valid UTF-8")
            }
            do {
                documents.append(try decoder.decode(SearchDocument.self, from: Data(line)))
            } catch let error as DecodingError {
                throw .malformedLine(path: source, line: number, reason: reason(error))
            } catch {
                throw .malformedLine(path: source, line: number, reason: "\(error)")
            }
        }
        return DocumentCollection(documents: documents)
    }

    private static func reason(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _):
            "missing field \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            if let key = context.codingPath.last {
                "field \"\(key.stringValue)\" must be a string"
            } else {
                "not a JSON object"
            }
        case .dataCorrupted(let context):
            if let key = context.codingPath.last {
                "bad field \"\(key.stringValue)\""
            } else {
                "not a JSON object"
            }
        @unknown default:
            "not a valid document"
        }
    }
}
