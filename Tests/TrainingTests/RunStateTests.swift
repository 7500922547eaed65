import Checkpoint
import Foundation
import Testing
import Training

/// The run state goes to a checkpoint's attributes and, on resume, to every
/// rank by a broadcast: both must give back every bit, including sums that
/// short decimal text would round.
@Suite("Run state")
struct RunStateTests {
    /// Sums whose bits decimal text can lose, a best value, micro-batches
    /// and the older sample order.
    static func awkward() -> RunState {
        var state = RunState()
        state.epoch = 3
        state.iteration = 17
        state.globalStep = 3 * 40 + 17
        state.epochLossSum = 0.1 + 0.2
        state.epochSamples = 1088
        state.gradientNormSum = .leastNonzeroMagnitude  // a subnormal
        state.gradientNormSteps = 17
        state.best.value = Double.pi / 3
        state.best.epoch = 2
        state.best.epochsWithoutImprovement = 1
        state.microBatches = 4
        state.sampleOrder = .drawnPermutation
        return state
    }

    @Test("A checkpoint's attributes give back the same run state, bit for bit")
    func checkpointRoundTrip() throws {
        let state = Self.awkward()
        var extra = state.extras(keepBest: try MonitoredMetric("test_loss"))
        extra["deterministic"] = "true"  // the mode, which the trainer writes with its settings
        let saved = TrainingState(parameters: .empty, optimizer: OptimizerState(type: "adam", hyperParameters: [:], step: state.globalStep),
                                  epoch: state.epoch, iteration: state.iteration, globalStep: state.globalStep,
                                  samplesSeen: 0, seed: 0, worldSize: 1, batchSize: 64, model: "m", modelConfig: "{}",
                                  dataset: "d", rngState: [1, 2, 3, 4], extra: extra)
        let back = RunState(checkpoint: saved)
        #expect(back == state)
        #expect(back.epochLossSum.bitPattern == state.epochLossSum.bitPattern)
        #expect(back.gradientNormSum.bitPattern == state.gradientNormSum.bitPattern)
    }

    @Test("The resume broadcast's JSON gives back the same run state, bit for bit")
    func broadcastRoundTrip() throws {
        let state = Self.awkward()
        let back = try JSONDecoder().decode(RunState.self, from: JSONEncoder().encode(state))
        #expect(back == state)
        #expect(back.best.value?.bitPattern == state.best.value?.bitPattern)
    }

    @Test("A step adds to the epoch's sums; an epoch's end starts them again and keeps the best")
    func advancing() {
        var state = RunState()
        state.finishStep(lossSum: 2.5, samples: 64, gradientNorm: 0.75)
        state.finishStep(lossSum: 1.5, samples: 64, gradientNorm: nil)
        #expect((state.globalStep, state.iteration, state.epochLossSum, state.epochSamples) == (2, 2, 4.0, 128))
        #expect((state.gradientNormSum, state.gradientNormSteps) == (0.75, 1))
        state.best.value = 0.5
        state.finishEpoch()
        #expect((state.epoch, state.iteration, state.globalStep, state.epochLossSum, state.gradientNormSteps) == (1, 0, 2, 0, 0))
        #expect(state.best.value == 0.5)
    }
}
