/// The three agents of the sequential style (spec §4.1): planner → refiner (the critic) → solver,
/// with the solver's output fed back to the planner in the next round.
public enum AgentRole: String, CaseIterable, Sendable, Codable {
    case planner
    /// The critic: it refines the planner's plan. The reference calls it both "critic" and "refiner".
    case refiner
    case solver

    /// The JSON key of the ``RoleExample`` field this role is trained to produce (spec §1.3).
    public var targetField: RoleExample.Field {
        switch self {
        case .planner: .plan
        case .refiner: .refinedPlan
        case .solver: .answer
        }
    }
}

/// Marker strings left in a prompt where another agent's latent thoughts are spliced in.
///
/// The spellings are the reference's, byte for byte (spec §4), so rendered prompts line up with
/// its data and checkpoints.
public enum LatentSlot: String, CaseIterable, Sendable {
    /// In the refiner's prompt: the planner's latent plan.
    case planner = "<<LATENT_PLANNER_SLOT>>"
    /// In the solver's prompt: the refiner's latent refined plan.
    case refined = "<<LATENT_REFINED_SLOT>>"
    /// In the planner's prompt from round 2 on: the previous round's solver output.
    case feedback = "<<LATENT_FEEDBACK_SLOT>>"

    /// The marker text.
    public var marker: String { rawValue }
}
