import Foundation
@testable import Agents
import Models
import RoleData
import Testing
import Training

@Suite("Sequential golden (pre-refactor recorder)")
struct SequentialGoldenRecorderTests {
    @Test("record") func record() throws {
        guard SequentialGolden.recording else { return }
        let system = try SequentialSystemTests.system()
        var answers: [RecordedAnswer] = []
        for question in SequentialGolden.questions {
            for method in [InferenceMethod.latent, .text, .single] {
                let results = try system.run(question: question, method: method, roundCounts: [1, 2, 3], latentSteps: 3,
                                             generation: GenerationParameters(maxTokens: 6), answerRetry: true)
                for r in [1, 2, 3] where method != .single || r == 1 {
                    let result = results[r]!
                    answers.append(RecordedAnswer(
                        question: question, method: method.rawValue, rounds: r, text: result.text,
                        stages: result.stages.map {
                            RecordedStage(node: $0.role.rawValue, round: $0.round, promptTokens: $0.promptTokens, latentInputs: $0.latentInputs,
                                          latentSteps: $0.latentSteps, generatedTokens: $0.generatedTokens, text: $0.text)
                        }))
                }
            }
        }
        var objectives: [RecordedObjective] = []
        for (rounds, finalOnly) in [(1, true), (2, true), (3, false)] {
            let parameters = system.outerParameters
            parameters.zeroGradients()
            let result = try system.outerObjective(OuterTrainingTests.example, options: OuterTrainingTests.options(rounds: rounds, finalOnly: finalOnly))
            var gradients: [String: [Double]] = [:]
            for p in parameters {
                let g = p.gradient
                gradients[p.name] = [g.reduce(0) { $0 + Double($1) * Double($1) }, g.reduce(0) { $0 + Double($1) }]
            }
            objectives.append(RecordedObjective(rounds: rounds, finalRoundOnly: finalOnly, loss: result.loss,
                                                roundLosses: result.roundLosses, gradients: gradients))
        }
        try SequentialGolden.record(SequentialGolden(answers: answers, objectives: objectives))
    }
}
