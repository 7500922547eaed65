import Optim
import Testing

// Each schedule's closed form against torch's chainable formulas, over 100
// epochs (past T_max, milestones and warm-ups).

struct ScheduleCase: Sendable, CustomTestStringConvertible {
    let schedule: LearningRateSchedule
    var testDescription: String { schedule.description }

    static let all: [ScheduleCase] = ([
        try! .stepLR(stepSize: 7, gamma: 0.5),
        try! .stepLR(stepSize: 1, gamma: 0.95),
        try! .multiStepLR(milestones: [10, 25, 60], gamma: 0.3),
        try! .multiStepLR(milestones: [0, 3]),
        try! .cosineAnnealingLR(tMax: 30),
        try! .cosineAnnealingLR(tMax: 1, etaMin: 0.001),
        try! .cosineAnnealingLR(tMax: 45, etaMin: 0.002),
        try! .linearLR(),
        try! .linearLR(startFactor: 0.1, endFactor: 0.9, totalIters: 20),
        try! .linearLR(startFactor: 1, endFactor: 0, totalIters: 50),
        try! .warmupCosine(warmupIters: 10, tMax: 40, startFactor: 0.1, etaMin: 1e-4),
        try! .warmupCosine(warmupIters: 1, tMax: 2),
    ] as [LearningRateSchedule]).map(ScheduleCase.init)
}

@Test("schedule matches torch's recursive formulas", arguments: ScheduleCase.all)
func scheduleMatchesTorch(_ c: ScheduleCase) throws {
    let base = 0.1
    let expected = torchRecursiveLearningRates(c.schedule.kind, base: base, epochs: 100)
    var scheduler = try LearningRateScheduler(c.schedule, baseLearningRate: base)
    for (epoch, lr) in expected.enumerated() {
        #expect(scheduler.lastEpoch == epoch)
        let actual = scheduler.currentLearningRate
        #expect(abs(actual - lr) <= 1e-12 * abs(lr) || actual == lr,
                "epoch \(epoch): \(actual) vs torch \(lr), relative \(abs(actual - lr) / abs(lr))")
        scheduler.step()
    }
}

@Test func closedFormsAtKnownPoints() throws {
    let step = try LearningRateSchedule.stepLR(stepSize: 30)
    #expect(step.learningRate(base: 1, epoch: 29) == 1)
    #expect(step.learningRate(base: 1, epoch: 30) == 0.1)
    let multi = try LearningRateSchedule.multiStepLR(milestones: [2, 5], gamma: 0.5)
    #expect([0, 1, 2, 4, 5, 100].map { multi.learningRate(base: 1, epoch: $0) } == [1, 1, 0.5, 0.5, 0.25, 0.25])
    let cosine = try LearningRateSchedule.cosineAnnealingLR(tMax: 10, etaMin: 0.01)
    #expect(cosine.learningRate(base: 0.1, epoch: 0) == 0.1)
    #expect(cosine.learningRate(base: 0.1, epoch: 10) == 0.01)
    #expect(abs(cosine.learningRate(base: 0.1, epoch: 20) - 0.1) < 1e-17)
    let linear = try LearningRateSchedule.linearLR()
    #expect(linear.learningRate(base: 0.3, epoch: 0) == 0.3 * (1.0 / 3))
    #expect(linear.learningRate(base: 0.3, epoch: 5) == 0.3 && linear.learningRate(base: 0.3, epoch: 9) == 0.3)
    let warm = try LearningRateSchedule.warmupCosine(warmupIters: 4, tMax: 14, startFactor: 0.5)
    #expect(warm.learningRate(base: 1, epoch: 0) == 0.5)
    #expect(warm.learningRate(base: 1, epoch: 2) == 0.75)
    #expect(warm.learningRate(base: 1, epoch: 4) == 1)
    #expect(warm.learningRate(base: 1, epoch: 14) == 0)
}

@Test func invalidParametersAreRefusedWithTheirTorchNames() {
    func refused(_ make: () throws -> LearningRateSchedule, _ name: String) {
        #expect {
            _ = try make()
        } throws: { error in
            guard case let .invalidParameter(_, parameter, _, _) = error as? LearningRateScheduleError else { return false }
            return parameter.hasPrefix(name)
        }
    }
    refused({ try .stepLR(stepSize: 0) }, "step_size")
    refused({ try .stepLR(stepSize: 3, gamma: 0) }, "gamma")
    refused({ try .stepLR(stepSize: 3, gamma: .infinity) }, "gamma")
    refused({ try .multiStepLR(milestones: [5, 5]) }, "milestones")
    refused({ try .multiStepLR(milestones: [5, 2]) }, "milestones")
    refused({ try .multiStepLR(milestones: [-1]) }, "milestones")
    refused({ try .multiStepLR(milestones: [3], gamma: -0.5) }, "gamma")
    refused({ try .cosineAnnealingLR(tMax: 0) }, "T_max")
    refused({ try .cosineAnnealingLR(tMax: 10, etaMin: -1) }, "eta_min")
    refused({ try .cosineAnnealingLR(tMax: 10, etaMin: .nan) }, "eta_min")
    refused({ try .linearLR(startFactor: 0) }, "start_factor")
    refused({ try .linearLR(startFactor: 1.5) }, "start_factor")
    refused({ try .linearLR(endFactor: 1.1) }, "end_factor")
    refused({ try .linearLR(totalIters: 0) }, "total_iters")
    refused({ try .warmupCosine(warmupIters: 10, tMax: 10) }, "t_max")
    refused({ try .warmupCosine(warmupIters: 0, tMax: 10) }, "warm-up")
    refused({ try .warmupCosine(warmupIters: 2, tMax: 10, startFactor: 0) }, "start_factor")
    let message = "\(LearningRateScheduleError.invalidParameter(schedule: "StepLR", name: "step_size", value: "0", requirement: "at least 1"))"
    #expect(message == "StepLR: step_size must be at least 1, got 0")
}
