// Provenance: plays the role of llama.cpp's `token_to_id` map (src/llama-vocab.cpp), keyed by
// raw UTF-8 bytes so lookups of text slices need no String allocation.

/// An immutable hash table from byte strings to token ids (open addressing, linear probing).
///
/// Each slot packs the key's 32-bit hash with its index, so a probe touches one cache line and
/// the key bytes are read only when the hashes agree.
struct ByteStringTable: Sendable {
    /// All keys' bytes, back to back.
    private let bytes: [UInt8]
    /// Where each key lies in `bytes`: start in the high 32 bits, length in the low 32 bits.
    private let spans: [UInt64]
    /// `hash << 32 | (index + 1)`, or 0 for an empty slot.
    private let slots: [UInt64]
    private let mask: Int

    /// Builds the table for `keys`, where key `i` maps to id `i`. Returns the first pair of
    /// duplicate keys instead if there is one. Keys must be shorter than 4 GiB in total.
    static func build(_ keys: [[UInt8]]) -> Result<ByteStringTable, DuplicateKey> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(keys.reduce(0) { $0 + $1.count })
        var spans: [UInt64] = []
        spans.reserveCapacity(keys.count)
        for key in keys {
            spans.append(UInt64(bytes.count) << 32 | UInt64(key.count))
            bytes.append(contentsOf: key)
        }
        var capacity = 16
        while capacity < keys.count * 2 { capacity <<= 1 }
        let mask = capacity - 1
        var slots = [UInt64](repeating: 0, count: capacity)
        for (index, key) in keys.enumerated() {
            let hash = key.withUnsafeBufferPointer { Self.hash($0) }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 {
                let other = Int(slots[slot] & 0xFFFF_FFFF) - 1
                let span = spans[other]
                let start = Int(span >> 32)
                if slots[slot] >> 32 == hash & 0xFFFF_FFFF,
                    bytes[start ..< start + Int(span & 0xFFFF_FFFF)].elementsEqual(key)
                {
                    return .failure(DuplicateKey(first: other, second: index))
                }
                slot = (slot + 1) & mask
            }
            slots[slot] = (hash & 0xFFFF_FFFF) << 32 | UInt64(index + 1)
        }
        return .success(ByteStringTable(bytes: bytes, spans: spans, slots: slots, mask: mask))
    }

    struct DuplicateKey: Error {
        let first: Int
        let second: Int
    }

    private init(bytes: [UInt8], spans: [UInt64], slots: [UInt64], mask: Int) {
        self.bytes = bytes
        self.spans = spans
        self.slots = slots
        self.mask = mask
    }

    /// The id of the key equal to `key`, if any.
    @inline(__always)
    func id(of key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let hash = Self.hash(key)
        let tag = hash & 0xFFFF_FFFF
        var slot = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let entry = slots[slot]
                if entry == 0 { return nil }
                if entry >> 32 == tag {
                    let index = Int(entry & 0xFFFF_FFFF) - 1
                    if matches(index, key) { return Int32(index) }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    func id(of key: some Collection<UInt8>) -> Int32? {
        if let direct = key.withContiguousStorageIfAvailable({ id(of: $0) }) { return direct }
        return Array(key).withUnsafeBufferPointer { id(of: $0) }
    }

    /// Whether key `index` equals `key`.
    @inline(__always)
    private func matches(_ index: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let span = spans[index]
        guard Int(span & 0xFFFF_FFFF) == key.count else { return false }
        let start = Int(span >> 32)
        return bytes.withUnsafeBufferPointer { stored in
            for i in 0..<key.count where stored[start + i] != key[i] { return false }
            return true
        }
    }

    /// FNV-1a, 64-bit, with a final mix so the low bits (the slot) depend on every byte.
    @inline(__always)
    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return h ^ (h >> 29)
    }
}
