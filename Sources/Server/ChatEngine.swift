// One chat request run to completion on a worker thread: a system through its GraphRunner (the
// answering node's final text is the reply; every stage is reported as it starts and ends), or a
// base model through its chat template. Forward calls go through the shared executor, so requests
// in flight share batched forwards.
import Agents
import Foundation
import Models
import Tokenization

/// What a client hears while a request runs.
public enum ChatEvent: Sendable {
    /// A node began a stage (latent thinking or decoding) in `round`.
    case stageStarted(node: String, round: Int, kind: String)
    /// A piece of the reply (never broken UTF-8).
    case content(String)
    /// A node finished a stage.
    case stageFinished(StageTiming)
    /// The run ended.
    case finished(ChatOutcome)
    case failed(ServerError)
}

/// One stage's accounting, as the response's `timings` reports it.
public struct StageTiming: Sendable, Codable, Equatable {
    public var node: String
    public var round: Int
    public var promptTokens: Int
    public var latentSteps: Int
    public var generatedTokens: Int
    public var ms: Double

    enum CodingKeys: String, CodingKey {
        case node, round, ms
        case promptTokens = "prompt_tokens", latentSteps = "latent_steps", generatedTokens = "generated_tokens"
    }

    init(_ record: StageRecord) {
        node = record.node
        round = record.round
        promptTokens = record.promptTokens
        latentSteps = record.latentSteps
        generatedTokens = record.generatedTokens
        ms = record.seconds * 1000
    }

    init(node: String, promptTokens: Int, generatedTokens: Int, ms: Double) {
        self.node = node
        round = 1
        self.promptTokens = promptTokens
        latentSteps = 0
        self.generatedTokens = generatedTokens
        self.ms = ms
    }
}

/// How a request ended.
public struct ChatOutcome: Sendable, Equatable {
    public var text: String
    /// "stop" (end of text or a stop string) or "length" (the token budget ran out).
    public var finishReason: String
    public var promptTokens: Int
    public var completionTokens: Int
    public var latentSteps: Int
    public var timings: [StageTiming]
    /// The client left or the time limit passed before the end.
    public var cancelled: Bool
}

/// Runs requests against a catalog.
public struct ChatEngine: Sendable {
    public let catalog: ServedCatalog
    public let threads: Int
    /// Of every generation (decode activations and prompt-prefill products).
    public let precision: ActivationPrecision

    public init(catalog: ServedCatalog, threads: Int, precision: ActivationPrecision = .int8) {
        self.catalog = catalog
        self.threads = threads
        self.precision = precision
    }

    /// Runs `request` on the calling thread (blocking), reporting to `emit`; stops early once
    /// `cancellation` is set.
    public func run(_ request: ChatRequest, executor: any ForwardExecutor, cancellation: CancellationFlag,
                    emit: (ChatEvent) -> Void) {
        do {
            switch try catalog.entry(request.model) {
            case .system(let graph, let tools):
                emit(.finished(try runSystem(graph, tools: tools, request, executor: executor, cancellation: cancellation, emit: emit)))
            case .model(let model):
                emit(.finished(try runModel(model, request, executor: executor, cancellation: cancellation, emit: emit)))
            }
        } catch let error as ServerError {
            emit(.failed(error))
        } catch AgentError.cancelled {
            emit(.failed(.cancelled))
        } catch AgentError.invalidArgument(let problem) {
            emit(.failed(.invalidRequest(problem)))  // what the request asked for cannot run (e.g. a prompt past the context)
        } catch {
            emit(.failed(.internalError("\(error)")))
        }
    }

    func parameters(_ request: ChatRequest, defaultMaxTokens: Int, cancellation: CancellationFlag) -> GenerationParameters {
        var generation = GenerationParameters(maxTokens: request.maxTokens ?? defaultMaxTokens, stopStrings: request.stop,
                                              precision: precision, threads: threads)
        if request.temperature > 0 {
            generation.sampling = SamplingParameters(temperature: request.temperature, topP: request.topP, seed: request.seed ?? 0)
        }
        generation.cancellation = cancellation
        return generation
    }

    func runSystem(_ graph: AgentGraph, tools: (any ToolExecutor)?, _ request: ChatRequest, executor: any ForwardExecutor,
                   cancellation: CancellationFlag, emit: (ChatEvent) -> Void) throws -> ChatOutcome {
        let definition = graph.definition
        let rounds = request.rounds ?? definition.schedule.rounds
        let generation = parameters(request, defaultMaxTokens: definition.defaults.maxTokens, cancellation: cancellation)
        // A system answers one question: the last user message (earlier turns are not part of its prompts).
        let question = request.messages.last { $0.role == .user }!.content
        let answering = graph.nodes[graph.answer].id
        let result = try GraphRunner(graph: graph, tools: tools, executor: executor).run(
            question: question, method: request.method, rounds: rounds, latentSteps: request.latentSteps ?? definition.defaults.latentSteps,
            generation: generation
        ) { event in
            switch event {
            case .stageStarted(let node, let round, let kind): emit(.stageStarted(node: node, round: round, kind: kind.rawValue))
            case .text(let node, let round, let chunk):
                if node == answering, round == rounds || request.method == .single { emit(.content(chunk)) }
            case .toolCall: break
            case .stageFinished(let record): emit(.stageFinished(StageTiming(record)))
            }
        }
        let last = result.stages.last?.generatedTokens ?? 0
        return ChatOutcome(text: result.text, finishReason: last >= generation.maxTokens ? "length" : "stop",
                           promptTokens: result.promptTokens, completionTokens: result.generatedTokens, latentSteps: result.latentSteps,
                           timings: result.stages.map(StageTiming.init), cancelled: cancellation.isCancelled)
    }

    func runModel(_ model: LanguageModel, _ request: ChatRequest, executor: any ForwardExecutor, cancellation: CancellationFlag,
                  emit: (ChatEvent) -> Void) throws -> ChatOutcome {
        var generation = parameters(request, defaultMaxTokens: 256, cancellation: cancellation)
        generation.stopStrings += model.chatTemplate?.stopStrings ?? []
        let prompt = model.chatPrompt(request.messages)
        do { try model.configuration.checkFits(positions: prompt.count + generation.maxTokens) } catch {
            throw ServerError.invalidRequest("the prompt (\(prompt.count) tokens) and max_tokens (\(generation.maxTokens)) exceed the model's context: \(error)")
        }
        let clock = ContinuousClock(), start = clock.now
        let cache = KVCache(configuration: model.configuration, capacity: prompt.count + generation.maxTokens + 1)
        emit(.stageStarted(node: request.model, round: 1, kind: StageKind.decode.rawValue))
        let result = Generator(model: model, executor: executor).generate(prompt: prompt, cache: cache, parameters: generation) { piece in
            emit(.content(piece))
            return !cancellation.isCancelled
        }
        let timing = StageTiming(node: request.model, promptTokens: prompt.count, generatedTokens: result.tokens.count,
                                 ms: (clock.now - start).seconds * 1000)
        emit(.stageFinished(timing))
        return ChatOutcome(text: result.text, finishReason: result.stopReason == .maxTokens ? "length" : "stop", promptTokens: prompt.count,
                           completionTokens: result.tokens.count, latentSteps: 0, timings: [timing],
                           cancelled: cancellation.isCancelled)
    }
}
