extension PromptTemplates {
    /// Our wording of the sequential math prompts (spec §4.1), line for line in the reference's
    /// structure: role line, task, labelled question, labelled slot, answer format.
    public static let sequentialMath = PromptTemplates(
        system: "You are a helpful assistant.",
        plannerFirstRound: """
            You are the planner agent in a multi-agent system.
            Make a step-by-step plan for solving the question below.
            Question:
            {question}

            Reply with the plan only, in exactly this format:
            \(stepFormat)
            """,
        plannerLaterRound: """
            You are the planner agent in a recursive multi-agent system. This is round {round}.
            Make a step-by-step plan for solving the question below.
            Question:
            {question}

            Feedback signal from the previous solver round:
            {slot}

            Treat the feedback as a soft correction signal: use it where it helps, and where it \
            conflicts with the question, keep to the question's constraints.
            Output only a concise plan, in exactly this format:
            \(stepFormat)
            """,
        refiner: """
            You are the refiner agent in a multi-agent system.
            Here is the question.
            Question:
            {question}

            Here is the planner's initial plan.
            Initial Plan:
            {slot}

            Check the initial plan against the question, fix what is wrong or missing, and make \
            every step precise. Reply with the refined plan only, in exactly this format:
            \(stepFormat)
            """,
        solver: """
            You are the solver agent in a multi-agent system.
            Here is the refined plan.
            Refined Plan:
            {slot}

            Here is the question.
            Question:
            {question}

            {instruction}
            """,
        solverInstruction:
            "Solve the question with the information above, and put your final answer inside "
            + "\\boxed{}, for example \\boxed{1}.",
        solverChoiceInstruction:
            "Solve the question with the information above, and put the letter of your final "
            + "choice inside \\boxed{}, for example \\boxed{A}."
    )

    private static let stepFormat = """
        Step 1: ...
        Step 2: ...
        ...
        Step n: ...
        """
}
