import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Agents
import Links
import Models
import Server
import TestSupport
import Testing

/// `rmas serve`'s server on loopback with tiny random-weight models: every endpoint through a real
/// HTTP client, streaming, and each kind of bad input answered with an OpenAI-style error while
/// the server stays up.
@Suite("OpenAI-compatible server", .serialized)
struct ServerTests {
    /// A running server on a free port: a tiny sequential system ("tiny-system") and a tiny
    /// base model ("tiny-model").
    final class Running: Sendable {
        let server: OpenAIServer
        let port: Int
        let task: Task<Void, any Error>

        init(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws {
            var configuration = ServerConfiguration()
            configuration.port = 0
            configuration.requestTimeout = 1800  // see `fetch`: the full suite can slow a chat a thousandfold
            configure(&configuration)
            let server = try OpenAIServer(configuration: configuration)
            let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
            task = Task { try await server.run { continuation.yield($0) } }
            var port = 0
            for await p in stream { port = p; break }
            self.server = server
            self.port = port
            server.serve(try ServerTests.catalog())
        }

        func stop() async {
            task.cancel()
            _ = await task.result
        }

        var base: String { "http://127.0.0.1:\(port)" }
    }

    static func catalog() throws -> ServedCatalog {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let wide = directory.appendingPathComponent("wide.gguf"), narrow = directory.appendingPathComponent("narrow.gguf")
        try Data(TinyModel(.qwen2).serialized()).write(to: wide)
        var critic = TinyModel(.llama)
        critic.width = 32
        critic.headDim = 8
        critic.ffn = 48
        try Data(critic.serialized()).write(to: narrow)
        let big = try LanguageModel.load(path: wide.path), small = try LanguageModel.load(path: narrow.path)
        let definition = GraphDefinition.sequential(rounds: 1)
        let graph = try AgentGraph(
            definition: definition,
            nodes: [
                .init(id: "planner", model: big, inner: InnerLink(width: 64, seed: 1), prompts: definition.nodes[0].prompts, target: "plan"),
                .init(id: "refiner", model: small, inner: InnerLink(width: 32, seed: 2), prompts: definition.nodes[1].prompts, target: "refined_plan"),
                .init(id: "solver", model: big, inner: InnerLink(width: 64, seed: 3), prompts: definition.nodes[2].prompts, target: "answer"),
            ],
            links: [
                OuterLink(inputWidth: 64, outputWidth: 32, prefix: "planner_to_refiner.", seed: 4),
                OuterLink(inputWidth: 32, outputWidth: 64, prefix: "refiner_to_solver.", seed: 5),
                OuterLink(inputWidth: 64, outputWidth: 64, prefix: "solver_to_planner.", seed: 6),
            ])
        return try ServedCatalog([("tiny-system", .system(graph, tools: nil)), ("tiny-model", .model(big))])
    }

    /// One HTTP exchange: status, headers, body.
    static func fetch(_ url: String, method: String = "GET", body: Data? = nil, headers: [String: String] = [:]) async throws
        -> (status: Int, headers: [String: String], body: Data) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        // Generous: in the full suite these requests share 2 cores (and OpenBLAS's global lock)
        // with real-model tests, and a tiny model's chat has been seen taking over a minute there.
        request.timeoutInterval = 900
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if body != nil, headers["Content-Type"] == nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields[String(describing: k).lowercased()] = String(describing: v) }
        return (http.statusCode, fields, data)
    }

    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "not a JSON object: \(String(decoding: data, as: UTF8.self))")
    }

    static func chatBody(_ fields: [String: Any]) -> Data {
        var object: [String: Any] = ["model": "tiny-system", "messages": [["role": "user", "content": "What is 2 + 3?"]], "max_tokens": 5]
        for (k, v) in fields { object[k] = v }
        return try! JSONSerialization.data(withJSONObject: object)
    }

    @Test("health, models, metrics; a system and a base model answer with usage and per-stage timings")
    func endpoints() async throws {
        let running = try await Running()
        defer { Task { await running.stop() } }
        let health = try await Self.fetch(running.base + "/health")
        #expect(health.status == 200)
        let models = try Self.object(try await Self.fetch(running.base + "/v1/models").body)
        let listed = models["data"] as? [[String: Any]] ?? []
        #expect(listed.compactMap { $0["id"] as? String } == ["tiny-system", "tiny-model"])
        let graph = listed.first?["rmas_graph"] as? [String: Any]
        #expect(graph?["answer"] as? String == "solver" && (graph?["edges"] as? [Any])?.count == 3, "the system's graph is described")
        for (model, stages) in [("tiny-system", 3), ("tiny-model", 1)] {
            let reply = try await Self.fetch(running.base + "/v1/chat/completions", method: "POST", body: Self.chatBody(["model": model]))
            #expect(reply.status == 200, "\(String(decoding: reply.body, as: UTF8.self))")
            let object = try Self.object(reply.body)
            #expect(object["object"] as? String == "chat.completion" && object["model"] as? String == model)
            let message = ((object["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
            #expect(message?["role"] as? String == "assistant" && message?["content"] is String)
            let usage = try #require(object["usage"] as? [String: Any])
            #expect((usage["completion_tokens"] as? Int ?? 0) >= 1 && (usage["prompt_tokens"] as? Int ?? 0) > 0)
            #expect((object["timings"] as? [[String: Any]])?.count == stages)
        }
        // The text method passes text between the agents; single is the solver alone.
        for method in ["text", "single"] {
            let reply = try await Self.fetch(running.base + "/v1/chat/completions", method: "POST", body: Self.chatBody(["method": method]))
            #expect(reply.status == 200)
        }
        let metrics = String(decoding: try await Self.fetch(running.base + "/metrics").body, as: UTF8.self)
        #expect(metrics.contains("rmas_requests_total{endpoint=\"chat\",status=\"200\"} 4"))
        #expect(metrics.contains("rmas_request_seconds_count 4"))
    }

    @Test("streaming: a role chunk, stage events, content, a last chunk with usage, then [DONE]")
    func streaming() async throws {
        let running = try await Running()
        defer { Task { await running.stop() } }
        let reply = try await Self.fetch(running.base + "/v1/chat/completions", method: "POST", body: Self.chatBody(["stream": true]))
        #expect(reply.status == 200 && reply.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        let events = String(decoding: reply.body, as: UTF8.self).components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.last == "data: [DONE]")
        let chunks = try events.dropLast().map { event -> [String: Any] in
            #expect(event.hasPrefix("data: "))
            return try Self.object(Data(event.dropFirst(6).utf8))
        }
        #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let stages = chunks.compactMap { $0["rmas"] as? [String: Any] }.filter { $0["event"] as? String == "stage_started" }
        let order = stages.compactMap { $0["node"] as? String }.reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
        #expect(order == ["planner", "refiner", "solver"])
        let last = try #require(chunks.last)
        #expect(((last["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String) != nil)
        #expect(last["usage"] is [String: Any] && last["timings"] is [[String: Any]])
    }

    @Test("bad input: each gets its OpenAI-style error and the server keeps answering")
    func badInput() async throws {
        let running = try await Running { $0.maxBodyBytes = 4096; $0.maxTokensLimit = 100 }
        defer { Task { await running.stop() } }
        let url = running.base + "/v1/chat/completions"
        let cases: [(String, Data, Int)] = [
            ("malformed JSON", Data("{\"model\": ".utf8), 400),
            ("not an object", Data("[1, 2]".utf8), 400),
            ("wrong type", Self.chatBody(["max_tokens": "five"]), 400),
            ("boolean as number", Self.chatBody(["temperature": true]), 400),
            ("unknown model", Self.chatBody(["model": "nope"]), 404),
            ("empty messages", Self.chatBody(["messages": [Any]()]), 400),
            ("no user message", Self.chatBody(["messages": [["role": "system", "content": "x"]]]), 400),
            ("bad role", Self.chatBody(["messages": [["role": "wizard", "content": "x"]]]), 400),
            ("max_tokens 0", Self.chatBody(["max_tokens": 0]), 400),
            ("max_tokens 1e9", Self.chatBody(["max_tokens": 1_000_000_000]), 400),
            ("n = 2", Self.chatBody(["n": 2]), 400),
            ("non-UTF-8", Data([0x7B, 0xFF, 0xFE, 0x7D]), 400),
            ("huge body", Self.chatBody(["messages": [["role": "user", "content": String(repeating: "x", count: 10_000)]]]), 413),
        ]
        for (name, body, status) in cases {
            let reply = try await Self.fetch(url, method: "POST", body: body)
            #expect(reply.status == status, "\(name): \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
            let error = try Self.object(reply.body)["error"] as? [String: Any]
            #expect(error?["message"] is String && error?["type"] is String, "\(name)")
        }
        let unknownPath = try await Self.fetch(running.base + "/v2/nothing")
        let unknownError = try Self.object(unknownPath.body)["error"]
        #expect(unknownPath.status == 404 && unknownError != nil)
        #expect(try await Self.fetch(url, method: "POST", body: Self.chatBody([:])).status == 200, "still serving")
    }

    @Test("API key: missing or wrong is 401 everywhere but /health; a non-loopback bind without a key is refused")
    func apiKey() async throws {
        let running = try await Running { $0.apiKey = "s3cret" }
        defer { Task { await running.stop() } }
        let url = running.base + "/v1/chat/completions"
        #expect(try await Self.fetch(url, method: "POST", body: Self.chatBody([:])).status == 401)
        #expect(try await Self.fetch(url, method: "POST", body: Self.chatBody([:]), headers: ["Authorization": "Bearer s3cres"]).status == 401)
        #expect(try await Self.fetch(running.base + "/v1/models").status == 401)
        #expect(try await Self.fetch(running.base + "/health").status == 200)
        #expect(try await Self.fetch(url, method: "POST", body: Self.chatBody([:]), headers: ["Authorization": "Bearer s3cret"]).status == 200)
        var open = ServerConfiguration()
        open.host = "0.0.0.0"
        #expect(throws: ServerError.self) { try OpenAIServer(configuration: open) }
    }

    @Test("a full queue answers 429 with Retry-After; admitted requests still finish")
    func backpressure() async throws {
        let running = try await Running { $0.workers = 1; $0.queueCapacity = 1 }
        defer { Task { await running.stop() } }
        let url = running.base + "/v1/chat/completions"
        let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let reply = try await Self.fetch(url, method: "POST", body: Self.chatBody(["model": "tiny-model", "max_tokens": 100]))
                    return (reply.status, reply.headers["retry-after"])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.contains { $0.0 == 200 })
        #expect(statuses.contains { $0.0 == 429 && $0.1 != nil })
        #expect(statuses.allSatisfy { $0.0 == 200 || $0.0 == 429 })
    }

    @Test("a client that vanishes mid-stream or never finishes its request does not stop the server")
    func vanishingClients() async throws {
        let running = try await Running { $0.idleTimeout = 1 }
        defer { Task { await running.stop() } }
        // Half a request, then silence: the idle timeout closes the connection.
        let slow = try RawClient(port: running.port)
        slow.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"model\"")
        #expect(slow.readUntilClosed(seconds: 5), "an idle half request is dropped")
        // A stream read for a moment, then the socket closed.
        let body = String(decoding: Self.chatBody(["model": "tiny-model", "stream": true, "max_tokens": 200]), as: UTF8.self)
        let gone = try RawClient(port: running.port)
        gone.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        _ = gone.read(bytes: 64)
        gone.close()
        let reply = try await Self.fetch(running.base + "/v1/chat/completions", method: "POST", body: Self.chatBody([:]))
        #expect(reply.status == 200, "other requests are unaffected")
    }
}

extension ServerTests {
    @Test("load: 32 concurrent clients, 256 requests, no errors, forwards batched")
    func load() async throws {
        let running = try await Running { $0.workers = 8; $0.queueCapacity = 64 }
        defer { Task { await running.stop() } }
        let url = running.base + "/v1/chat/completions"
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for client in 0..<32 {
                group.addTask {
                    var out: [Int] = []
                    for i in 0..<8 {
                        let model = (client + i) % 2 == 0 ? "tiny-model" : "tiny-system"
                        out.append(try await Self.fetch(url, method: "POST", body: Self.chatBody(["model": model, "max_tokens": 4])).status)
                    }
                    return out
                }
            }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        #expect(statuses.count == 256 && statuses.allSatisfy { $0 == 200 }, "\(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
        let statistics = running.server.batching
        #expect(statistics.largestBatch > 1, "requests in flight shared forwards (largest batch \(statistics.largestBatch))")
    }
}

extension ServerTests {
    @Test("GET / serves the chat page: model picker, controls, and the API it streams from")
    func page() async throws {
        let running = try await Running()
        defer { Task { await running.stop() } }
        let reply = try await Self.fetch(running.base + "/")
        #expect(reply.status == 200 && reply.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(reply.headers["content-security-policy"]?.contains("default-src 'self'") == true)
        let html = String(decoding: reply.body, as: UTF8.self)
        for needle in ["id=\"model\"", "id=\"rounds\"", "id=\"steps\"", "id=\"nodes\"", "/v1/chat/completions", "/v1/models", "stage_started"] {
            #expect(html.contains(needle), "\(needle)")
        }
    }
}

extension ServerTests {
    @Test("the page works in headless Chromium: models listed, a question streamed, every agent shown with its stats")
    func browser() async throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            // scripts/test.sh installs it (as root); CI (RMAS_REQUIRE_MODELS=1) fails without it.
            #expect(ProcessInfo.processInfo.environment["RMAS_REQUIRE_MODELS"] != "1", "chromium is not installed")
            return
        }
        let running = try await Running()
        defer { Task { await running.stop() } }
        let page = running.base + "/?model=tiny-system&q=What%20is%202%20%2B%203%3F&compare=text"
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shot = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-page-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: shot) }
        let result = OpenAIClientTests.run(["python3", root.appendingPathComponent("scripts/browser-check.py").path, chromium, page, shot.path, "600"])
        #expect(result.status == 0, "\(result.output.suffix(2000))")
        let brace = result.output.firstIndex(of: "{") ?? result.output.startIndex
        let json = String(result.output[brace...])
        let state = try Self.object(Data(json.utf8))
        #expect(state["options"] as? [String] == ["tiny-system", "tiny-model"], "the picker lists what /v1/models serves")
        let turns = state["turns"] as? [[String: Any]] ?? []
        let kinds = turns.map { $0["kind"] as? String ?? "" }
        #expect(turns.first?["text"] as? String == "What is 2 + 3?" && turns.count == 2, "\(turns)")
        #expect(!kinds.contains { $0.contains("error") }, "\(turns)")
        let nodes = state["nodes"] as? [[String: Any]] ?? []
        #expect(nodes.compactMap { $0["name"] as? String }.map { $0.split(separator: " ").first.map(String.init) ?? "" }
                == ["planner", "refiner", "solver"], "every agent shown in order: \(nodes)")
        #expect(state["edges"] as? [String] == ["planner → refiner: latent thoughts", "refiner → solver: latent thoughts",
                                                 "solver → planner: latent thoughts (feedback, next round)"], "\(state)")
        #expect(nodes.allSatisfy { ($0["stats"] as? String ?? "").contains("latent steps") }, "\(nodes)")
        #expect((state["totals"] as? String ?? "").hasPrefix("tiny-system (latent): "), "\(state)")
        #expect((state["compare"] as? String ?? "").hasPrefix("text method: "), "the text method's cost shown: \(state)")
        let png = try Data(contentsOf: shot)
        #expect(png.count > 10_000 && png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "a real screenshot")
    }
}

extension ServerTests {
    @Test("a request past its time limit stops between stages and answers 504; the server goes on")
    func timeout() async throws {
        let running = try await Running { $0.requestTimeout = 0.3 }
        defer { Task { await running.stop() } }
        let url = running.base + "/v1/chat/completions"
        let slow = try await Self.fetch(url, method: "POST", body: Self.chatBody(["rounds": 16, "latent_steps": 200, "max_tokens": 50]))
        #expect(slow.status == 504, "\(String(decoding: slow.body, as: UTF8.self))")
        #expect((try Self.object(slow.body)["error"] as? [String: Any])?["type"] as? String == "timeout_error")
        // The server goes on (a chat would need a looser limit than 0.3 s when the suite shares the cores).
        #expect(try await Self.fetch(running.base + "/v1/models").status == 200)
    }
}

extension ServerTests {
    @Test("a prompt longer than the model's context is an error response, for a system and a base model")
    func contextOverflow() async throws {
        let running = try await Running { $0.maxBodyBytes = 1 << 20 }
        defer { Task { await running.stop() } }
        let long = String(repeating: "seven apples and ", count: 3000)  // ~12k tokens: past the tiny models' 4096
        for model in ["tiny-system", "tiny-model"] {
            let reply = try await Self.fetch(running.base + "/v1/chat/completions", method: "POST",
                                             body: Self.chatBody(["model": model, "messages": [["role": "user", "content": long]]]))
            #expect(reply.status == 400, "\(model): \(reply.status) \(String(decoding: reply.body, as: UTF8.self).prefix(300))")
        }
        #expect(try await Self.fetch(running.base + "/health").status == 200)
    }
}

/// A blocking loopback TCP client for the misbehaving-client tests.
final class RawClient: @unchecked Sendable {
    let fd: Int32
    private var closed = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) { _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }

    func read(bytes: Int) -> Int {
        var buffer = [UInt8](repeating: 0, count: bytes)
        return recv(fd, &buffer, bytes, 0)
    }

    /// Whether the server closes the connection within `seconds`.
    func readUntilClosed(seconds: Int) -> Bool {
        let deadline = Date().addingTimeInterval(Double(seconds))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }
            if n < 0 && errno != EAGAIN && errno != EINTR { return true }
        }
        return false
    }

    func close() {
        if !closed { Glibc.close(fd) }
        closed = true
    }

    deinit { close() }
}

/// The official `openai` Python client against the server (scripts/openai-client-check.py):
/// models, chats with a system and a base model, streaming with stage events, and the client's
/// own error types for an unknown model and a wrong key.
@Suite("OpenAI Python client against the server")
struct OpenAIClientTests {
    @Test("openai (pinned in scripts/test.sh) passes every check of scripts/openai-client-check.py")
    func officialClient() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/openai-client-check.py")
        guard Self.run(["python3", "-c", "import openai"]).status == 0 else {
            // scripts/test.sh installs it; a plain `swift test` without it skips, CI (RMAS_REQUIRE_MODELS=1) fails.
            #expect(ProcessInfo.processInfo.environment["RMAS_REQUIRE_MODELS"] != "1", "the openai package is not installed")
            return
        }
        let running = try await ServerTests.Running { $0.apiKey = "k3y" }
        defer { Task { await running.stop() } }
        let result = Self.run(["python3", script.path, running.base, "tiny-system", "tiny-model", "k3y"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("ok   a wrong key raises AuthenticationError (401)"), "\(result.output)")
    }

    /// Runs a command to completion (blocking), stdout and stderr together.
    static func run(_ arguments: [String]) -> (status: Int32, output: String) {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-client-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        guard let handle = try? FileHandle(forWritingTo: out) else { return (-1, "no output file") }
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        do { try process.run() } catch { return (-1, "\(error)") }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
    }
}
