import Testing
import Training

@Suite("Training module")
struct TrainingModuleTests {
    @Test("the module re-exports Models")
    func reexportsModels() { #expect(Architecture.registry.count == 3) }
}
