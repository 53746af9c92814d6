import Testing

@testable import Training

@Suite("Learning-rate schedules")
struct LearningRateScheduleTests {
    @Test("warm-up is linear from 0, the peak is reached at warmupSteps, and 0 at totalSteps")
    func warmupCosineShape() {
        let schedule = WarmupCosineSchedule(peak: 6e-3, warmupSteps: 3, totalSteps: 33)
        #expect(schedule.learningRate(at: 0) == 0)
        #expect(abs(schedule.learningRate(at: 1) - 2e-3) < 1e-15)
        #expect(abs(schedule.learningRate(at: 2) - 4e-3) < 1e-15)
        #expect(schedule.learningRate(at: 3) == 6e-3)
        #expect(abs(schedule.learningRate(at: 18) - 3e-3) < 1e-15)  // half way: cos(π/2) = 0
        #expect(schedule.learningRate(at: 33) == 0)
        let decay = (3...33).map(schedule.learningRate(at:))
        #expect(zip(decay, decay.dropFirst()).allSatisfy { $0 >= $1 })
    }

    @Test("edge cases follow transformers: no warm-up starts at the peak; warm-up = total ends at the peak")
    func edgeCases() {
        #expect(WarmupCosineSchedule(peak: 1, warmupSteps: 0, totalSteps: 10).learningRate(at: 0) == 1)
        let flat = WarmupCosineSchedule(peak: 1, warmupSteps: 5, totalSteps: 5)
        #expect(flat.learningRate(at: 5) == 1)  // progress = 0 / max(1, 0)
        #expect(flat.learningRate(at: 6) == 0)  // progress = 1 / max(1, 0): cos(π) = −1
        // 1.5 cycles: back to the peak one period after warm-up ends (progress 2/3).
        let cycles = WarmupCosineSchedule(peak: 1, warmupSteps: 0, totalSteps: 30, cycles: 1.5)
        #expect(abs(cycles.learningRate(at: 20) - 1) < 1e-12)
    }

    @Test("a constant schedule is constant")
    func constant() {
        let schedule: any LearningRateSchedule = ConstantSchedule(3e-4)
        #expect([0, 1, 1000].map(schedule.learningRate(at:)) == [3e-4, 3e-4, 3e-4])
    }
}
