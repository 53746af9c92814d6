/// Per-layer key/value storage for one sequence: `[capacity × Hkv × Dh]` per layer.
///
/// `count` positions are valid. `append` happens inside the forward pass; `trim(to:)` drops a
/// suffix (rejecting a draft, rewinding a latent rollout); `copy()` branches a sequence.
public final class KVCache: @unchecked Sendable {  // owned by one sequence; not shared across threads
    public let layerCount: Int
    public let kvWidth: Int  // Hkv·Dh
    public private(set) var capacity: Int
    public private(set) var count: Int = 0
    var keys: [UnsafeMutablePointer<Float>]
    var values: [UnsafeMutablePointer<Float>]

    public init(configuration c: ModelConfiguration, capacity: Int = 512) {
        layerCount = c.layerCount
        kvWidth = c.kvHeadCount * max(c.keyLength, c.valueLength)
        self.capacity = max(capacity, 1)
        keys = (0..<layerCount).map { _ in .allocate(capacity: max(capacity, 1) * c.kvHeadCount * max(c.keyLength, c.valueLength)) }
        values = (0..<layerCount).map { _ in .allocate(capacity: max(capacity, 1) * c.kvHeadCount * max(c.keyLength, c.valueLength)) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Makes room for `total` positions, keeping the contents (growth doubles).
    public func reserve(_ total: Int) {
        guard total > capacity else { return }
        let newCapacity = max(total, capacity * 2)
        for l in 0..<layerCount {
            for isKey in [true, false] {
                let old = isKey ? keys[l] : values[l]
                let grown = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * kvWidth)
                grown.update(from: old, count: count * kvWidth)
                old.deallocate()
                if isKey { keys[l] = grown } else { values[l] = grown }
            }
        }
        capacity = newCapacity
    }

    /// Drops positions `newCount ..< count`.
    public func trim(to newCount: Int) {
        precondition(newCount >= 0 && newCount <= count, "trim(to: \(newCount)) with \(count) cached positions")
        count = newCount
    }

    /// An independent copy (for branching a sequence).
    public func copy() -> KVCache {
        let clone = KVCache(layerCount: layerCount, kvWidth: kvWidth, capacity: max(count, 1))
        for l in 0..<layerCount {
            clone.keys[l].update(from: keys[l], count: count * kvWidth)
            clone.values[l].update(from: values[l], count: count * kvWidth)
        }
        clone.count = count
        return clone
    }

    private init(layerCount: Int, kvWidth: Int, capacity: Int) {
        self.layerCount = layerCount
        self.kvWidth = kvWidth
        self.capacity = capacity
        keys = (0..<layerCount).map { _ in .allocate(capacity: capacity * kvWidth) }
        values = (0..<layerCount).map { _ in .allocate(capacity: capacity * kvWidth) }
    }

    /// Marks `added` more positions valid (called by the forward pass after writing them).
    func advance(by added: Int) {
        precondition(count + added <= capacity)
        count += added
    }

    /// Bytes held.
    public var byteCount: Int { 2 * layerCount * capacity * kvWidth * 4 }
}
