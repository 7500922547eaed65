import Foundation
import NN
import Optim
import Testing
import TensorCore

// The scheduler: torch's construction step, apply(to:), and its state.

@Test("a restored scheduler continues with the same learning rates, bitwise", arguments: ScheduleCase.all)
func stateRoundTrip(_ c: ScheduleCase) throws {
    var original = try LearningRateScheduler(c.schedule, baseLearningRate: 0.05)
    for _ in 0..<37 { original.step() }
    // Through JSON, as a checkpoint's metadata might carry it.
    let json = try JSONEncoder().encode(original.state)
    let saved = try JSONDecoder().decode(LearningRateSchedulerState.self, from: json)
    #expect(saved == original.state)
    var restored = try LearningRateScheduler(state: saved, expecting: c.schedule, baseLearningRate: 0.05)
    #expect(restored == original)
    for _ in 0..<63 {
        #expect(restored.currentLearningRate.bitPattern == original.currentLearningRate.bitPattern)
        original.step()
        restored.step()
    }
    #expect(restored.lastEpoch == 100)
}

@Test("a scheduler made at last epoch n is the one n steps make, and a negative one is refused", arguments: ScheduleCase.all)
func madeAtAnEpoch(_ c: ScheduleCase) throws {
    var stepped = try LearningRateScheduler(c.schedule, baseLearningRate: 0.05)
    for _ in 0..<37 { stepped.step() }
    let made = try LearningRateScheduler(c.schedule, baseLearningRate: 0.05, lastEpoch: 37)
    #expect(made == stepped && made.state == stepped.state)
    #expect(throws: LearningRateScheduleError.self) { try LearningRateScheduler(c.schedule, baseLearningRate: 0.05, lastEpoch: -1) }
}

@Test func stateUsesTorchKeys() throws {
    var scheduler = try LearningRateScheduler(.stepLR(stepSize: 3, gamma: 0.5), baseLearningRate: 0.2)
    for _ in 0..<4 { scheduler.step() }
    let state = scheduler.state
    #expect(state.typeName == "step")
    #expect(state.scalars == ["last_epoch": 4, "_step_count": 5, "step_size": 3, "gamma": 0.5])
    #expect(state.lists == ["base_lrs": [0.2], "_last_lr": [0.1]])

    let keys: [(LearningRateSchedule, Set<String>, Set<String>)] = [
        (try .multiStepLR(milestones: [3, 8]), ["gamma"], ["milestones"]),
        (try .cosineAnnealingLR(tMax: 9), ["T_max", "eta_min"], []),
        (try .linearLR(), ["start_factor", "end_factor", "total_iters"], []),
        (try .warmupCosine(warmupIters: 5, tMax: 20), ["start_factor", "end_factor", "total_iters", "T_max", "eta_min"],
         ["milestones"]),
    ]
    for (schedule, scalars, lists) in keys {
        let state = try LearningRateScheduler(schedule, baseLearningRate: 1).state
        #expect(Set(state.scalars.keys) == scalars.union(["last_epoch", "_step_count"]), "\(schedule)")
        #expect(Set(state.lists.keys) == lists.union(["base_lrs", "_last_lr"]), "\(schedule)")
    }
    let warm = try LearningRateScheduler(.warmupCosine(warmupIters: 5, tMax: 20), baseLearningRate: 1).state
    #expect(warm.scalars["T_max"] == 15 && warm.scalars["total_iters"] == 5 && warm.lists["milestones"] == [5])
}

@Test func constructionSetsTheEpochZeroLearningRateLikeTorch() throws {
    let fixture = OptimizerFixture(seed: 51)
    let sgd = SGD(fixture.parameters, learningRate: 0.3)
    var scheduler = try LearningRateScheduler(.linearLR(startFactor: 0.5, totalIters: 2), optimizer: sgd)
    #expect(scheduler.baseLearningRate == Double(Float(0.3)))
    #expect(sgd.learningRate == Float(Double(Float(0.3)) * 0.5))
    scheduler.step()
    scheduler.apply(to: sgd)
    #expect(sgd.learningRate == Float(scheduler.currentLearningRate))
    scheduler.step()
    scheduler.apply(to: sgd)
    #expect(sgd.learningRate == 0.3)
}

@Test func refusedStates() throws {
    var scheduler = try LearningRateScheduler(.cosineAnnealingLR(tMax: 10, etaMin: 0.01), baseLearningRate: 0.1)
    for _ in 0..<3 { scheduler.step() }
    let good = scheduler.state

    func refused(_ state: LearningRateSchedulerState, expecting: LearningRateSchedule? = nil, base: Double? = nil,
                 _ check: (LearningRateScheduleError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) {
            _ = try LearningRateScheduler(state: state, expecting: expecting, baseLearningRate: base)
        } throws: { error in
            guard let error = error as? LearningRateScheduleError else { return false }
            return check(error)
        }
    }
    var missing = good
    missing.scalars["T_max"] = nil
    refused(missing) { $0 == .missingKey(type: "cosine", key: "T_max") }
    missing = good
    missing.lists["base_lrs"] = nil
    refused(missing) { $0 == .missingKey(type: "cosine", key: "base_lrs") }
    var unexpected = good
    unexpected.scalars["step_size"] = 3
    refused(unexpected) { $0 == .unexpectedKey(type: "cosine", key: "step_size") }
    var unknown = good
    unknown.typeName = "onecycle"
    refused(unknown) { $0 == .unknownType("onecycle") }
    var fractional = good
    fractional.scalars["last_epoch"] = 2.5
    refused(fractional) { if case .invalidState(key: "last_epoch", _) = $0 { true } else { false } }
    var counters = good
    counters.scalars["_step_count"] = 3
    refused(counters) { if case .invalidState(key: "_step_count", _) = $0 { true } else { false } }
    var lastLR = good
    lastLR.lists["_last_lr"] = [0.5]
    refused(lastLR) { if case .invalidState(key: "_last_lr", _) = $0 { true } else { false } }
    var groups = good
    groups.lists["base_lrs"] = [0.1, 0.1]
    refused(groups) { if case .invalidState(key: "base_lrs", _) = $0 { true } else { false } }
    var outOfRange = good
    outOfRange.scalars["T_max"] = 0
    refused(outOfRange) { if case .invalidParameter(_, "T_max", _, _) = $0 { true } else { false } }

    refused(good, expecting: try .cosineAnnealingLR(tMax: 12, etaMin: 0.01)) {
        $0 == .mismatch(key: "T_max", saved: "10.0", configured: "12.0")
    }
    refused(good, expecting: try .stepLR(stepSize: 10)) {
        $0 == .mismatch(key: "schedule type", saved: "cosine", configured: "step")
    }
    refused(good, base: 0.2) { $0 == .mismatch(key: "base_lrs", saved: "[0.1]", configured: "[0.2]") }
    #expect(try LearningRateScheduler(state: good, expecting: .cosineAnnealingLR(tMax: 10, etaMin: 0.01)) == scheduler)
    #expect(throws: LearningRateScheduleError.self) {
        try LearningRateScheduler(.stepLR(stepSize: 1), baseLearningRate: -1)
    }
}
