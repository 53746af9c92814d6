import Foundation

/// A parsed JSON value, kept only long enough to validate a row and name what a wrong value is.
public enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        // The first failure that is not a type mismatch: the value had that type but content the
        // decoder refuses (an unpaired surrogate escape "\ud800", a number beyond Double; found by
        // fuzzing). The error names that, not the last attempt's "expected a dictionary".
        var contentError: (any Error)?
        func attempt<T: Decodable>(_ type: T.Type) -> T? {
            do { return try c.decode(type) } catch {
                if contentError == nil, !Self.isTypeMismatch(error) { contentError = error }
                return nil
            }
        }
        if c.decodeNil() {
            self = .null
        } else if let b = attempt(Bool.self) {
            self = .bool(b)
        } else if let s = attempt(String.self) {
            self = .string(s)
        } else if let d = attempt(Double.self) {
            self = .number(d)
        } else if let a = attempt([JSONValue].self) {
            self = .array(a)
        } else {
            do {
                self = .object(try c.decode([String: JSONValue].self))
            } catch {
                throw (Self.isTypeMismatch(error) ? contentError : nil) ?? error
            }
        }
    }

    private static func isTypeMismatch(_ error: any Error) -> Bool {
        if case DecodingError.typeMismatch = error { true } else { false }
    }

    /// The JSON type's name, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Writes JSON string literals the way Python's `json.dumps(s, ensure_ascii=False)` does, so rows
/// written here and by Tools/data/*.py are byte-identical: `"` `\` and control characters are
/// escaped (`\n` `\r` `\t` `\b` `\f` by name, the rest as `\u00XX`), everything else is kept as UTF-8.
enum JSONStringLiteral {
    static func append(_ string: String, to out: inout String) {
        out.append("\"")
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case "\u{08}": out.append("\\b")
            case "\u{0C}": out.append("\\f")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }
}
