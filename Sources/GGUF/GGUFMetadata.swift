/// The key/value metadata of a GGUF file, in file order, with typed accessors.
///
/// Accessors return nil when a key is absent *or* holds another type; loaders that require a
/// key turn that nil into their own typed error naming the key.
public struct GGUFMetadata: Sendable, Equatable {
    public private(set) var entries: [(key: String, value: GGUFValue)] = []
    private var index: [String: Int] = [:]

    public init() {}

    public static func == (lhs: GGUFMetadata, rhs: GGUFMetadata) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }

    /// Appends an entry; returns false (and changes nothing) if the key already exists.
    @discardableResult
    public mutating func append(_ key: String, _ value: GGUFValue) -> Bool {
        guard index[key] == nil else { return false }
        index[key] = entries.count
        entries.append((key, value))
        return true
    }

    public var keys: [String] { entries.map(\.key) }
    public var count: Int { entries.count }

    public subscript(key: String) -> GGUFValue? {
        index[key].map { entries[$0].value }
    }

    public func string(_ key: String) -> String? {
        if case .string(let s)? = self[key] { return s }
        return nil
    }

    public func integer(_ key: String) -> Int? { self[key]?.integer }

    public func float(_ key: String) -> Double? { self[key]?.number }

    public func bool(_ key: String) -> Bool? {
        if case .bool(let b)? = self[key] { return b }
        return nil
    }

    public func array(_ key: String) -> GGUFArray? {
        if case .array(let a)? = self[key] { return a }
        return nil
    }

    public func stringArray(_ key: String) -> [String]? {
        if case .string(let a)? = array(key) { return a }
        return nil
    }

    public func floatArray(_ key: String) -> [Float]? {
        if case .float32(let a)? = array(key) { return a }
        return nil
    }

    public func int32Array(_ key: String) -> [Int32]? {
        if case .int32(let a)? = array(key) { return a }
        return nil
    }

    /// An integer array of any integer element type, widened to `Int`.
    public func integerArray(_ key: String) -> [Int]? {
        switch array(key) {
        case .uint8(let a)?: a.map(Int.init)
        case .int8(let a)?: a.map(Int.init)
        case .uint16(let a)?: a.map(Int.init)
        case .int16(let a)?: a.map(Int.init)
        case .uint32(let a)?: a.map(Int.init)
        case .int32(let a)?: a.map(Int.init)
        case .int64(let a)?: a.map(Int.init)
        case .uint64(let a)?: a.allSatisfy({ $0 <= UInt64(Int.max) }) ? a.map { Int($0) } : nil
        default: nil
        }
    }
}
