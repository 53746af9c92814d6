// Provenance: plays the role of llama.cpp's `bpe_ranks` map (src/llama-vocab.cpp), keyed by a
// pair of symbol ids instead of a pair of strings.

/// An immutable hash table from a (left, right) symbol pair to a BPE merge.
struct PairTable: Sendable {
    struct Merge: Sendable {
        let rank: Int32
        let result: Int32
    }

    private static let empty = UInt64.max
    private let keys: [UInt64]
    private let values: [Merge]
    private let shift: UInt64

    /// `entries` in priority order; for a repeated pair the first entry wins.
    init(_ entries: [(left: Int32, right: Int32, merge: Merge)]) {
        var bits: UInt64 = 4
        while (1 << bits) < entries.count * 2 { bits += 1 }
        let capacity = 1 << Int(bits)
        let shift = 64 - bits
        var keys = [UInt64](repeating: Self.empty, count: capacity)
        var values = [Merge](repeating: Merge(rank: 0, result: 0), count: capacity)
        for entry in entries {
            let key = Self.key(entry.left, entry.right)
            var slot = Int(truncatingIfNeeded: Self.mix(key) >> shift)
            while keys[slot] != Self.empty && keys[slot] != key { slot = (slot + 1) & (capacity - 1) }
            if keys[slot] == Self.empty {
                keys[slot] = key
                values[slot] = entry.merge
            }
        }
        self.keys = keys
        self.values = values
        self.shift = shift
    }

    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> Merge? {
        let key = Self.key(left, right)
        let mask = keys.count - 1
        var slot = Int(truncatingIfNeeded: Self.mix(key) >> shift)
        return keys.withUnsafeBufferPointer { keys in
            while true {
                let stored = keys[slot]
                if stored == key { return values[slot] }
                if stored == Self.empty { return nil }
                slot = (slot + 1) & mask
            }
        }
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Fibonacci hashing: the high bits of the product spread every input bit.
    @inline(__always)
    private static func mix(_ key: UInt64) -> UInt64 { key &* 0x9E37_79B9_7F4A_7C15 }
}
