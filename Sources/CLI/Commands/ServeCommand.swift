import Agents
import ArgumentParser
import Foundation
import Kernels
import Models
import Server

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve systems and base models through an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/models, /health, /metrics).",
        discussion: """
            Each --system is served under its preset name or file name (without .json), each --model under its registry \
            name or file name; with neither, the shipped sequential system. Models load once, after the server starts \
            (GET /health answers 503 until then), one copy per GGUF. Requests in flight share batched forward passes; \
            beyond --queue admitted requests the server answers 429 with Retry-After. A request's `method` (latent, \
            text, single), `rounds` and `latent_steps` fields choose how a system answers.
            """)

    @Option(name: .customLong("system"), help: "A system file or preset to serve (repeatable).") var systems: [String] = []
    @Option(name: .customLong("model"), help: "A base model (registry name or GGUF path) to serve alone (repeatable).") var models: [String] = []
    @Option(help: "Address to bind; anything but loopback needs --api-key.") var host = "127.0.0.1"
    @Option(help: "Port (0: any free port, printed when listening).", in: 0...65_535) var port = 8080
    @Option(help: "Require `Authorization: Bearer KEY` on every endpoint but /health.") var apiKey: String?
    @Option(help: "Requests run at once (their forwards batched).", in: 1...64) var workers = 8
    @Option(help: "Requests admitted at once, running or waiting; more get 429.", in: 1...4096) var queue = 32
    @Option(help: "Largest max_tokens a request may ask for.", in: 1...1_048_576) var maxTokensLimit = 4096
    @Option(help: "Largest request body in bytes (413 above).", in: 1_024...1_073_741_824) var maxBodyBytes = 1 << 20
    @Option(help: "Seconds a chat request may run before it stops (504).", in: 1...86_400) var timeout = 600.0
    @Option(help: "Worker threads of each forward's matrix products.", in: OptionRange.threads) var threads = 2
    @Option(help: ArgumentHelp(PrefillFormat.help)) var prefill: PrefillFormat = .auto
    @Option(help: ArgumentHelp(DecodePrecision.help)) var decode: DecodePrecision = .int8

    func run() async throws {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.apiKey = apiKey
        configuration.workers = workers
        configuration.queueCapacity = max(queue, workers)
        configuration.maxTokensLimit = maxTokensLimit
        configuration.precision = try decode.precision(prefill: prefill)
        configuration.maxBodyBytes = maxBodyBytes
        configuration.requestTimeout = timeout
        configuration.threads = threads
        let server: OpenAIServer
        do { server = try OpenAIServer(configuration: configuration) } catch { throw ValidationError(error.message) }
        BLAS.setThreadCount(threads)
        let (systems, models) = (self.systems.isEmpty && self.models.isEmpty ? ["sequential"] : self.systems, self.models)
        let loader = Task.detached {
            do {
                server.serve(try Self.catalog(systems: systems, models: models))
                Console.error("ready: serving \(systems + models)")
            } catch {
                Console.error("error: \(error)")
                Foundation.exit(1)
            }
        }
        let host = configuration.host
        try await server.run { port in Console.error("listening on http://\(host):\(port) (loading models…)") }
        loader.cancel()
    }

    /// Loads every system and model (fetching registry models that are missing).
    static func catalog(systems: [String], models: [String]) throws -> ServedCatalog {
        var entries: [(name: String, entry: ServedCatalog.Entry)] = []
        for spec in systems {
            var arguments = SystemArguments()
            arguments.system = spec
            let loaded = try arguments.load(try arguments.definition())
            let name = Presets.url(spec) != nil ? spec : URL(fileURLWithPath: spec).deletingPathExtension().lastPathComponent
            entries.append((name, .system(loaded.graph, tools: try SandboxToolExecutor.forGraph(loaded))))
        }
        for spec in models {
            let model = try LanguageModel.load(path: try resolveModelPath(spec))
            let name = spec.hasSuffix(".gguf") ? URL(fileURLWithPath: spec).deletingPathExtension().lastPathComponent : spec
            entries.append((name, .model(model)))
        }
        do { return try ServedCatalog(entries) } catch { throw ValidationError(error.message) }
    }
}
