import Foundation
import Agents
import RoleData
import TestSupport
import Testing

/// The system that ships in the executable, as a new user runs it: `rmas run` with no `--system`.
@Suite("The shipped default system (real models)", .serialized,
       .enabled(if: RealModels.available("qwen2.5-0.5b") && RealModels.available("smollm2-135m")))
struct DefaultSystemTests {
    @Test("rmas run answers with the trained default system: no untrained links, 1 round of latent stages, a decoded answer")
    func runsDefault() throws {
        _ = try RealModels.require("qwen2.5-0.5b")
        _ = try RealModels.require("smollm2-135m")
        let fixture = try CompareCommandTests.Fixture()
        defer { fixture.remove() }
        let output = try CompareCommandTests.rmas(
            ["run", "--json", "--max-tokens", "48", "--latent", "4", "--threads", "2",
             "Tom has 3 boxes with 4 apples each. He eats 2 apples. How many apples are left?"], in: fixture)
        #expect(output.status == 0, "stderr: \(output.stderr)")
        #expect(!output.stderr.contains("untrained"), "every shipped link has a checkpoint")
        let json = try CompareCommandTests.object(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let stages = try #require(json["stages"] as? [[String: Any]])
        #expect(stages.map { $0["node"] as? String } == ["planner", "refiner", "solver"])
        #expect(stages.prefix(2).allSatisfy { $0["latent_steps"] as? Int == 4 })
        #expect(stages[1]["latent_inputs"] as? Int == 4 && stages[2]["latent_inputs"] as? Int == 4)
        let answer = try #require(json["answer"] as? String)
        #expect(!answer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect((stages[2]["generated_tokens"] as? Int ?? 0) > 0)
    }
}
