// Provenance: the OpenAI chat-completions HTTP API (JSON responses, `text/event-stream` chunks
// ending in `data: [DONE]`, `usage`), `/health` and `/metrics` as llama-server serves them; this
// server adds per-stage `timings` and stage events (extension field `rmas`) for multi-agent runs.
import Agents
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Models
import Synchronization

/// The HTTP server: routes, authentication, limits, and the bridge from async handlers to the
/// worker threads that run the models.
public final class OpenAIServer: Sendable {
    public let configuration: ServerConfiguration
    public let metrics = ServerMetrics()
    let queue: InferenceQueue
    private let engine = Mutex<ChatEngine?>(nil)

    public init(configuration: ServerConfiguration) throws(ServerError) {
        try configuration.validate()
        self.configuration = configuration
        queue = InferenceQueue(workers: configuration.workers, capacity: configuration.queueCapacity, threads: configuration.threads)
    }

    /// Makes the server ready (until then `/health` answers 503 and chats are refused).
    public func serve(_ catalog: ServedCatalog) {
        engine.withLock { $0 = ChatEngine(catalog: catalog, threads: configuration.threads, precision: configuration.precision) }
    }

    var ready: ChatEngine? { engine.withLock { $0 } }

    /// How the requests' forward calls have been batched so far.
    public var batching: BatchingExecutor.Statistics { queue.executor.statistics }

    /// Runs until the task is cancelled; `onRunning` gets the bound port.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = Router()
        router.add(middleware: ErrorMiddleware(server: self))
        router.get("health") { _, _ in self.health() }
        router.get("/") { _, _ in self.page() }
        router.get("metrics") { request, _ in
            try self.authorize(request)
            let depth = self.queue.depth
            self.metrics.request("metrics", status: 200)
            return Self.response(200, "text/plain; version=0.0.4", Data(self.metrics.render(running: depth.running, waiting: depth.waiting).utf8))
        }
        router.get("v1/models") { request, _ in
            try self.authorize(request)
            return try self.models()
        }
        router.post("v1/chat/completions") { request, _ in
            try self.authorize(request)
            return try await self.chat(request)
        }
        let http1 = HTTP1Channel.Configuration(idleTimeout: .milliseconds(Int64(configuration.idleTimeout * 1000)))
        let app = Application(
            router: router, server: .http1(configuration: http1),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "rmas"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            // The library never prints: the CLI reports what it wants to.
            logger: Logger(label: "rmas.serve", factory: { _ in SwiftLogNoOpLogHandler() }))
        defer { queue.stop() }  // the workers exit once the admitted requests are done
        try await app.runService(gracefulShutdownSignals: [])
    }

    // MARK: - Endpoints

    func health() -> Response {
        guard ready != nil else {
            metrics.request("health", status: 503)
            return Self.error(.loading)
        }
        metrics.request("health", status: 200)
        return Self.json(200, ["status": "ok"])
    }

    /// The chat page (static; its API calls carry the key the user types in).
    func page() -> Response {
        guard let url = Bundle.module.url(forResource: "index", withExtension: "html"), let data = try? Data(contentsOf: url) else {
            return Self.error(.internalError("the page resource is missing from this build"))
        }
        metrics.request("page", status: 200)
        var response = Self.response(200, "text/html; charset=utf-8", data)
        response.headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline' 'self'"
        return response
    }

    func models() throws -> Response {
        guard let engine = ready else { throw ServerError.loading }
        let created = Int(Date().timeIntervalSince1970)
        let data = engine.catalog.names.map { name -> [String: Any] in
            var entry: [String: Any] = ["id": name, "object": "model", "created": created, "owned_by": engine.catalog.kind(name)]
            if case .system(let graph, _)? = try? engine.catalog.entry(name) { entry["rmas_graph"] = Self.describe(graph) }
            return entry
        }
        metrics.request("models", status: 200)
        return Self.json(200, ["object": "list", "data": data])
    }

    func chat(_ request: Request) async throws -> Response {
        guard let engine = ready else { throw ServerError.loading }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
            throw ServerError.bodyTooLarge(limit: configuration.maxBodyBytes)
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: configuration.maxBodyBytes) } catch {
            throw ServerError.bodyTooLarge(limit: configuration.maxBodyBytes)
        }
        let chat = try ChatRequest.parse(Data(buffer: body), maxTokensLimit: configuration.maxTokensLimit)
        _ = try engine.catalog.entry(chat.model)  // 404 before anything is queued
        let run = RunningChat(request: chat, timeout: configuration.requestTimeout)
        do {
            try queue.submit { executor in
                engine.run(chat, executor: executor, cancellation: run.cancellation) { run.continuation.yield($0) }
                run.continuation.finish()
            }
        } catch {
            run.stopTimer()  // refused (429): nothing will run
            throw error
        }
        return chat.stream ? stream(run) : try await complete(run)
    }

    /// The whole reply as one `chat.completion` object.
    func complete(_ run: RunningChat) async throws -> Response {
        let start = ContinuousClock.now
        let outcome = try await withTaskCancellationHandler {
            for await event in run.events {
                switch event {
                case .finished(let outcome): return outcome
                case .failed(let error): throw error == .cancelled && run.timedOut ? .timedOut(seconds: configuration.requestTimeout) : error
                default: continue
                }
            }
            throw ServerError.internalError("the run ended without an answer")
        } onCancel: { run.cancellation.cancel() }
        run.stopTimer()
        if outcome.cancelled, run.timedOut { throw ServerError.timedOut(seconds: configuration.requestTimeout) }
        record(outcome, since: start)
        metrics.request("chat", status: 200)
        var object = run.header(object: "chat.completion")
        object["choices"] = [["index": 0, "message": ["role": "assistant", "content": outcome.text], "finish_reason": outcome.finishReason]]
        object["usage"] = Self.usage(outcome)
        object["timings"] = Self.timings(outcome)
        return Self.json(200, object)
    }

    /// Server-sent events: a role chunk, content chunks, stage events (`rmas` field, no
    /// choices), a last chunk with finish_reason, usage and timings, then `[DONE]`.
    func stream(_ run: RunningChat) -> Response {
        let body = ResponseBody { writer in
            let start = ContinuousClock.now
            var finished = false
            defer { if !finished { run.cancellation.cancel() } }  // the client left: stop the work
            func send(_ object: [String: Any]) async throws {
                let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
                try await writer.write(ByteBuffer(string: "data: " + String(decoding: data, as: UTF8.self) + "\n\n"))
            }
            func chunk(_ delta: [String: Any], finish: String? = nil) -> [String: Any] {
                var object = run.header(object: "chat.completion.chunk")
                object["choices"] = [["index": 0, "delta": delta, "finish_reason": finish.map { $0 as Any } ?? NSNull()]]
                return object
            }
            try await send(chunk(["role": "assistant", "content": ""]))
            for await event in run.events {
                switch event {
                case .stageStarted(let node, let round, let kind):
                    var object = run.header(object: "chat.completion.chunk")
                    object["choices"] = [Any]()
                    object["rmas"] = ["event": "stage_started", "node": node, "round": round, "kind": kind]
                    try await send(object)
                case .content(let text): try await send(chunk(["content": text]))
                case .stageFinished(let timing):
                    var object = run.header(object: "chat.completion.chunk")
                    object["choices"] = [Any]()
                    object["rmas"] = ["event": "stage_finished", "timing": Self.timing(timing)]
                    try await send(object)
                case .finished(let outcome):
                    run.stopTimer()
                    var object = chunk([:], finish: outcome.cancelled && run.timedOut ? "length" : outcome.finishReason)
                    object["usage"] = Self.usage(outcome)
                    object["timings"] = Self.timings(outcome)
                    try await send(object)
                    self.record(outcome, since: start)
                    self.metrics.request("chat", status: 200)
                case .failed(let error):
                    run.stopTimer()
                    try await writer.write(ByteBuffer(string: "data: " + String(decoding: error.body, as: UTF8.self) + "\n\n"))
                    self.metrics.request("chat", status: error.status)
                }
            }
            finished = true
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }

    func record(_ outcome: ChatOutcome, since start: ContinuousClock.Instant) {
        metrics.completion(prompt: outcome.promptTokens, completion: outcome.completionTokens, latentSteps: outcome.latentSteps,
                           seconds: (ContinuousClock.now - start).seconds)
    }

    // MARK: - Authentication

    /// Checks the Bearer key when one is configured, in time independent of where a wrong key
    /// first differs.
    func authorize(_ request: Request) throws {
        guard let key = configuration.apiKey else { return }
        let given = Array((request.headers[.authorization] ?? "").utf8), wanted = Array("Bearer \(key)".utf8)
        var difference = UInt8(given.count == wanted.count ? 0 : 1)
        for i in 0..<wanted.count { difference |= wanted[i] ^ (i < given.count ? given[i] : 0) }
        guard difference == 0 else { throw ServerError.unauthorized }
    }

    // MARK: - Responses

    static func json(_ status: Int, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return response(status, "application/json", data)
    }

    static func response(_ status: Int, _ type: String, _ data: Data) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ error: ServerError) -> Response {
        var response = Self.response(error.status, "application/json", error.body)
        if case .busy(let seconds) = error { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    /// A system's agents and edges (extension field `rmas_graph` of `/v1/models`), for clients
    /// that draw the collaboration: node ids and models in schedule order, the answering node,
    /// rounds, and each edge's ends and direction (forward within a round, feedback into the next).
    static func describe(_ graph: AgentGraph) -> [String: Any] {
        let ids = graph.nodes.map(\.id)
        return ["nodes": graph.order.map { ["id": ids[$0], "model": graph.definition.nodes[$0].model] },
                "edges": graph.edges.map { ["from": ids[$0.from], "to": ids[$0.to], "direction": $0.direction.rawValue] },
                "answer": ids[graph.answer], "rounds": graph.definition.schedule.rounds]
    }

    static func usage(_ o: ChatOutcome) -> [String: Any] {
        ["prompt_tokens": o.promptTokens, "completion_tokens": o.completionTokens, "total_tokens": o.promptTokens + o.completionTokens,
         "latent_steps": o.latentSteps]
    }

    static func timing(_ t: StageTiming) -> [String: Any] {
        ["node": t.node, "round": t.round, "prompt_tokens": t.promptTokens, "latent_steps": t.latentSteps,
         "generated_tokens": t.generatedTokens, "ms": (t.ms * 1000).rounded() / 1000]
    }

    static func timings(_ o: ChatOutcome) -> [[String: Any]] { o.timings.map(timing) }
}

/// Turns thrown errors, ours and the router's (unknown path, wrong method), into OpenAI-style
/// error responses, and counts them.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let server: OpenAIServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServerError {
            server.metrics.request(Self.endpoint(request), status: error.status)
            return OpenAIServer.error(error)
        } catch let error as HTTPError {
            let mapped: ServerError = error.status == .notFound ? .notFound("no endpoint \(request.method) \(request.uri.path)")
                : .invalidRequest("\(error.status.reasonPhrase): \(error.body ?? "")")
            server.metrics.request(Self.endpoint(request), status: mapped.status)
            return OpenAIServer.error(mapped)
        } catch {
            server.metrics.request(Self.endpoint(request), status: 500)
            return OpenAIServer.error(.internalError("\(error)"))
        }
    }

    static func endpoint(_ request: Request) -> String {
        switch request.uri.path {
        case "/v1/chat/completions": "chat"
        case "/v1/models": "models"
        case "/health": "health"
        case "/metrics": "metrics"
        case "/": "page"
        default: "other"
        }
    }
}

/// One admitted chat: the event stream from its worker, its cancellation and its time limit.
final class RunningChat: Sendable {
    let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let created = Int(Date().timeIntervalSince1970)
    let model: String
    let events: AsyncStream<ChatEvent>
    let continuation: AsyncStream<ChatEvent>.Continuation
    let cancellation = CancellationFlag()
    private let timer: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let expired = CancellationFlag()  // set when the time limit passed

    init(request: ChatRequest, timeout: Double) {
        model = request.model
        (events, continuation) = AsyncStream.makeStream(of: ChatEvent.self)
        let flag = cancellation
        continuation.onTermination = { _ in flag.cancel() }
        let task = Task { [expired] in
            try? await Task.sleep(for: .seconds(timeout))
            guard !Task.isCancelled else { return }
            expired.cancel()
            flag.cancel()
        }
        timer.withLock { $0 = task }
    }

    var timedOut: Bool { expired.isCancelled }
    func stopTimer() { timer.withLock { $0?.cancel() } }

    func header(object: String) -> [String: Any] { ["id": id, "object": object, "created": created, "model": model] }
}
