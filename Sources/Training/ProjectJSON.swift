// The project's one JSON key style: snake_case in every file it writes. Readers also accept the
// camelCase keys that files written before 2026-12-02 used (outcomes, reports, manifests).
import Foundation

public enum ProjectJSON {
    /// Sorted keys, snake_case, slashes unescaped; `pretty` for files people read.
    /// For types without `[String: …]` dictionaries (the strategy would rename their keys).
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    /// Reads snake_case keys and, unchanged, the camelCase keys of older files. For the same
    /// types as ``encoder(pretty:)``.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

/// A coding key made from any string, for types that read a key under two spellings.
public struct FlexibleKey: CodingKey {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ string: String) { stringValue = string }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where Key == FlexibleKey {
    /// The value under `key`, or under `older` (the spelling of files written before).
    public func decode<T: Decodable>(_ type: T.Type, _ key: String, or older: String) throws -> T {
        if contains(FlexibleKey(key)) { return try decode(T.self, forKey: FlexibleKey(key)) }
        return try decode(T.self, forKey: FlexibleKey(older))
    }

    /// The value under `key` or `older`, nil when neither is present.
    public func decodeIfPresent<T: Decodable>(_ type: T.Type, _ key: String, or older: String) throws -> T? {
        try decodeIfPresent(T.self, forKey: FlexibleKey(key)) ?? decodeIfPresent(T.self, forKey: FlexibleKey(older))
    }
}

/// `nodes[1].prompts`-style text of a coding path (the place a message about a JSON file names).
public func codingPathText(_ codingPath: [any CodingKey]) -> String {
    var out = ""
    for key in codingPath {
        if let index = key.intValue { out += "[\(index)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
    }
    return out
}

extension DecodingError {
    /// "key path: what is wrong", for messages about the project's JSON files (system files,
    /// checkpoint manifests), without Foundation's debug dumps.
    public var readableDescription: String {
        switch self {
        case .keyNotFound(let key, let context):
            let path = codingPathText(context.codingPath)
            return "missing key \"\(key.stringValue)\"" + (path.isEmpty ? "" : " in \(path)")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "\(codingPathText(context.codingPath)): expected \(type)"
        case .dataCorrupted(let context):
            let path = codingPathText(context.codingPath)
            return (path.isEmpty ? "" : "\(path): ") + context.debugDescription
        @unknown default:
            return "\(self)"
        }
    }
}
