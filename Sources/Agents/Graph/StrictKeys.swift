// Unknown-key detection for the project's JSON files: a misspelled key is an error naming its
// path and the nearest valid key, never silently ignored.
import Training

/// A coding key for reading whatever keys an object has.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Thrown inside `Decodable` initialisers; ``GraphDefinition/load(_:)`` turns it into
/// ``GraphError/unknownKey(file:path:key:suggestion:)``.
struct UnknownKeyError: Error {
    var path: String
    var key: String
    var suggestion: String?
}

enum StrictKeys {
    /// Throws ``UnknownKeyError`` for the first key of the decoder's object not in `allowed`.
    static func check(_ decoder: any Decoder, allowed: [String]) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).sorted()
        for key in keys where !allowed.contains(key) {
            throw UnknownKeyError(path: codingPathText(decoder.codingPath), key: key, suggestion: nearest(key, in: allowed))
        }
    }

    /// The candidate closest to `key` by edit distance, if it is close enough to be a typo.
    static func nearest(_ key: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(key, $0)) }.min { $0.1 < $1.1 }
        guard let (best, d) = scored, d <= max(2, key.count / 3) else { return nil }
        return best
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count), current = previous
        for i in 1...max(a.count, 1) where !a.isEmpty {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
