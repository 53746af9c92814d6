import Foundation
@testable import Agents
import Synchronization
import Training
import Testing

/// A drain request (the CLI's first Ctrl-C / SIGTERM): no new work starts, what runs is finished
/// and delivered, and a later run continues from what was recorded.
@Suite("Draining a long run")
struct DrainTests {
    @Test("no item starts after the request; every started item is delivered; no error")
    func concurrentWork() throws {
        let drain = DrainRequest(), started = Mutex<Set<Int>>([])
        var delivered: [Int] = []
        try ConcurrentWork.run(count: 1000, workers: 3, drain: drain, participate: { $0() }) { i in
            started.withLock { _ = $0.insert(i) }
            usleep(1000)
            return i * i
        } deliver: { i, result in
            #expect(result == i * i)
            delivered.append(i)
            if delivered.count == 2 { drain.request() }
        }
        #expect(Set(delivered) == started.withLock { $0 }, "every started item was delivered")
        #expect(delivered.count >= 2 && delivered.count < 1000, "\(delivered.count) delivered")
    }

    @Test("a comparison drained after its first answer records whole passes only, and the same call continues it", arguments: [1, 3])
    func comparison(inFlight: Int) throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-drain-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let graph = try TinyGraph.sequential()
        let first = try ComparisonHarnessTests.comparison(output, inFlight: inFlight)
        let drain = DrainRequest()
        let markdown = try first.run(recorded: try first.recorded(), makeRunner: { GraphRunner(graph: graph) }, drain: drain) { _ in
            drain.request()
        }
        let read = { try JSONLines.read(QuestionOutcome.self, from: output.appendingPathComponent("outcomes.jsonl"), decoder: ProjectJSON.decoder()) }
        let kept = try read()
        // One (question, method) pass answers every rounds value of the method at once, so a drained
        // run holds whole passes: latent and text have two answers each, single one.
        let passes = Dictionary(grouping: kept) { "\($0.index) \($0.method)" }
        #expect(passes.allSatisfy { $0.value.count == ($0.value[0].method == .single ? 1 : 2) })
        #expect(!kept.isEmpty && kept.count < 15, "\(kept.count) answers kept")
        if inFlight == 1 { #expect(passes.count == 1, "one at a time: only the pass that was running") }
        #expect(markdown.contains("so far"), "the report says it covers only part of the questions")
        // The same comparison continues and ends with every answer once.
        let again = try ComparisonHarnessTests.comparison(output, inFlight: inFlight)
        _ = try again.run(recorded: try again.recorded(), makeRunner: { GraphRunner(graph: graph) })
        let all = try read()
        #expect(all.count == 15 && Set(all.map { "\($0.index) \($0.method) \($0.rounds)" }).count == 15)
        #expect(Array(all.prefix(kept.count)).map(\.text) == kept.map(\.text))
    }
}

extension DrainTests {
    @Test("a trainer drained mid-run checkpoints the step it took, off the checkpoint interval, and resumes exactly")
    func trainerDrain() throws {
        let directory = OuterTrainingTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = OuterTrainingTests.configuration(steps: 6)
        let straight = try TinyGraph.sequential()
        try OuterTrainer(graph: straight, train: OuterTrainingTests.data(), heldOut: [], configuration: configuration,
                         output: directory.appendingPathComponent("a"), models: OuterTrainingTests.identities, resume: false).run()
        let drain = DrainRequest()
        var reports: [(step: Int, checkpointed: Bool)] = []
        do {  // the trainer holds its directory until released
            let first = try OuterTrainer(graph: try TinyGraph.sequential(), train: OuterTrainingTests.data(), heldOut: [],
                                         configuration: configuration, output: directory.appendingPathComponent("b"),
                                         models: OuterTrainingTests.identities, resume: false)
            try first.run(drain: drain) { p in
                reports.append((p.step, p.checkpointed))
                if p.step == 2 { drain.request() }
                return true
            }
            // The request came during step 2's report, so step 3 is the last taken, and checkpointed
            // although the interval would not have.
            #expect(3 % configuration.checkpointEvery != 0, "step 3 is off the checkpoint interval")
            #expect(reports.map(\.step) == [1, 2, 3] && reports.map(\.checkpointed) == [false, true, true])
        }
        let resumed = try TinyGraph.sequential()
        let trainer = try OuterTrainer(graph: resumed, train: OuterTrainingTests.data(), heldOut: [], configuration: configuration,
                                       output: directory.appendingPathComponent("b"), models: OuterTrainingTests.identities, resume: true)
        #expect(trainer.step == 3)
        try trainer.run()
        #expect(straight.outerParameters.map(\.values) == resumed.outerParameters.map(\.values))
    }
}
