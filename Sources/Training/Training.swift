// The Training module: what changes during training (link parameters, optimizer state, schedules)
// and the loss heads. The LLMs it differentiates through are frozen `Models.Transformer`s.
import Models
