import Testing

@testable import RoleData

@Suite("PromptTemplates")
struct PromptTemplatesTests {
    let templates = PromptTemplates.sequentialMath
    let question = "Ava has 3 boxes of 4 pens. How many pens?"

    func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    @Test("each role's prompt carries exactly its own slot marker, once")
    func slotsPerRole() {
        let cases: [(AgentRole, Int, LatentSlot?)] = [
            (.planner, 1, nil), (.planner, 2, .feedback), (.planner, 5, .feedback),
            (.refiner, 1, .planner), (.solver, 1, .refined),
        ]
        for (role, round, slot) in cases {
            #expect(templates.slot(for: role, round: round) == slot)
            let text = templates.render(role: role, question: question, round: round)
            for other in LatentSlot.allCases {
                #expect(count(other.marker, in: text) == (other == slot ? 1 : 0), "\(role) round \(round)")
            }
            #expect(count(question, in: text) == 1)
            for placeholder in ["{question}", "{round}", "{slot}", "{instruction}"] {
                #expect(!text.contains(placeholder), "\(placeholder) left in \(role) round \(round)")
            }
        }
    }

    @Test("the structure of spec §4.1: step format, round line, slot order, boxed instruction")
    func structure() throws {
        let first = templates.render(role: .planner, question: question)
        #expect(first.hasPrefix("You are the planner agent in a multi-agent system."))
        #expect(first.hasSuffix("Step 1: ...\nStep 2: ...\n...\nStep n: ..."))
        #expect(first.contains("Question:\n\(question)\n"))

        let later = templates.render(role: .planner, question: question, round: 3)
        #expect(later.hasPrefix("You are the planner agent in a recursive multi-agent system. This is round 3."))
        #expect(later.contains("Feedback signal from the previous solver round:\n<<LATENT_FEEDBACK_SLOT>>\n"))
        #expect(later.hasSuffix("Step n: ..."))

        let refiner = templates.render(role: .refiner, question: question)
        #expect(refiner.contains("Initial Plan:\n<<LATENT_PLANNER_SLOT>>\n"))
        #expect(refiner.range(of: question)!.lowerBound < refiner.range(of: "<<LATENT_PLANNER_SLOT>>")!.lowerBound)

        let solver = templates.render(role: .solver, question: question)
        #expect(solver.contains("Refined Plan:\n<<LATENT_REFINED_SLOT>>\n"))
        // Plan before question (the reference's default, solver_pre_question = 0).
        #expect(solver.range(of: "<<LATENT_REFINED_SLOT>>")!.lowerBound < solver.range(of: question)!.lowerBound)
        #expect(solver.hasSuffix("\n\n" + templates.solverInstruction))
        #expect(templates.solverInstruction.contains("\\boxed{}") && templates.solverInstruction.contains("\\boxed{1}"))
    }

    @Test("choice questions get the letter instruction")
    func choiceQuestions() {
        let choice = "Which is prime?\nA. 4\nB) 6\nC: 7\nD - 9"
        #expect(PromptTemplates.isChoiceQuestion(choice))
        #expect(PromptTemplates.isChoiceQuestion("Pick one:\n  b. yes\n  c. no"))
        #expect(!PromptTemplates.isChoiceQuestion("A.B. bought 3 pens. How many?"))
        #expect(!PromptTemplates.isChoiceQuestion("E. 5 is the answer"))
        #expect(!PromptTemplates.isChoiceQuestion(question))
        let solver = templates.render(role: .solver, question: choice)
        #expect(solver.hasSuffix(templates.solverChoiceInstruction) && solver.contains("\\boxed{A}"))
    }

    @Test("slot text replaces the marker; inserted text is never re-scanned for placeholders")
    func slotTextAndInjection() {
        let tricky = "What is {slot} + {question} + {round}? Use {unknown} braces."
        let text = templates.render(role: .refiner, question: tricky, slotText: "Step 1: add {instruction}")
        #expect(text.contains("Question:\n\(tricky)\n"))
        #expect(text.contains("Initial Plan:\nStep 1: add {instruction}\n"))
        #expect(!text.contains("<<LATENT_PLANNER_SLOT>>"))
        #expect(PromptTemplates.fill("{a}{b} {c} {", with: ["a": "{b}", "b": "x"]) == "{b}x {c} {")
    }

    @Test("inner-training pairs follow the role table of spec §1.3")
    func trainingPairs() {
        let row = RoleExample(question: question, plan: "PLAN TEXT", refinedPlan: "REFINED TEXT", answer: "ANSWER")
        let planner = templates.trainingPair(for: .planner, example: row)
        let refiner = templates.trainingPair(for: .refiner, example: row)
        let solver = templates.trainingPair(for: .solver, example: row)
        #expect(planner.user == templates.render(role: .planner, question: question))
        #expect(refiner.user == templates.render(role: .refiner, question: question, slotText: "PLAN TEXT"))
        #expect(solver.user == templates.render(role: .solver, question: question, slotText: "REFINED TEXT"))
        #expect([planner.target, refiner.target, solver.target] == ["PLAN TEXT", "REFINED TEXT", "ANSWER"])
        for pair in [planner, refiner, solver] {
            #expect(pair.system == "You are a helpful assistant.")
            #expect(!LatentSlot.allCases.contains { pair.user.contains($0.marker) })
        }
        #expect(AgentRole.allCases.map(\.targetField.key) == ["plan", "refined_plan", "answer"])
    }
}
