import Foundation
import NN
import TensorExpectations
import Testing
import TensorCore

// BatchNorm1d / BatchNorm2d: PyTorch's names and semantics, and SyncBatchNorm
// through the forward context's statistics reducer.

/// Per-channel batch mean, biased and unbiased variance of x [N, C, P...] in Double.
private func channelStatistics(_ x: Tensor) -> (mean: [Double], biased: [Double], unbiased: [Double]) {
    let (n, c) = (x.shape[0], x.shape[1])
    let p = x.count / (n * c)
    var result: (mean: [Double], biased: [Double], unbiased: [Double]) = ([], [], [])
    for ch in 0..<c {
        let values = (0..<n).flatMap { i in (0..<p).map { Double(x.data[(i * c + ch) * p + $0]) } }
        let mean = values.reduce(0, +) / Double(values.count)
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        result.mean.append(mean)
        result.biased.append(squares / Double(values.count))
        result.unbiased.append(squares / Double(values.count - 1))
    }
    return result
}

/// (x - mean) / sqrt(var + eps) * weight + bias per channel, in Double.
private func normalised(_ x: Tensor, mean: [Double], variance: [Double], weight: [Float], bias: [Float],
                        eps: Double = 1e-5) -> [Float] {
    let (n, c) = (x.shape[0], x.shape[1])
    let p = x.count / (n * c)
    return (0..<x.count).map { k in
        let ch = (k / p) % c
        return Float((Double(x.data[k]) - mean[ch]) / (variance[ch] + eps).squareRoot() * Double(weight[ch])
            + Double(bias[ch]))
    }
}

@Test func batchNormStateDictHasPyTorchsKeysAndDefaults() {
    let layer = BatchNorm2d(3)
    #expect(layer.stateDict().map(\.name) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
    #expect(layer.namedParameters().map(\.name) == ["weight", "bias"])
    #expect(layer.namedBuffers().map(\.name) == ["running_mean", "running_var", "num_batches_tracked"])
    #expect(layer.weight!.scalars == [1, 1, 1] && layer.bias!.scalars == [0, 0, 0])
    #expect(layer.runningMean!.scalars == [0, 0, 0] && layer.runningVar!.scalars == [1, 1, 1])
    #expect(layer.numBatchesTracked!.shape == [] && layer.numBatchesTracked!.item() == 0)
    #expect(layer.eps == 1e-5 && layer.momentum == 0.1 && layer.isTraining)
    #expect(layer.parameterCount == 6)
    #expect(layer.namedBuffers().allSatisfy { !$0.tensor.requiresGrad })

    let bare = BatchNorm1d(4, affine: false, trackRunningStats: false)
    #expect(bare.stateDict().isEmpty)
}

@Test("training forward, running statistics and eval against Double", arguments: [[8, 3], [4, 3, 5], [4, 2, 3, 3]])
func batchNormMatchesReference(shape: [Int]) {
    let layer: BatchNorm = shape.count == 4 ? BatchNorm2d(shape[1]) : BatchNorm1d(shape[1])
    let weight = randomTensor([shape[1]], low: 0.5, high: 1.5, seed: 1).scalars
    let bias = randomTensor([shape[1]], seed: 2).scalars
    layer.weight!.data.update(from: weight, count: weight.count)
    layer.bias!.data.update(from: bias, count: bias.count)

    var runningMean = [Double](repeating: 0, count: shape[1])
    var runningVar = [Double](repeating: 1, count: shape[1])
    for step in 0..<3 {
        let x = randomTensor(shape, low: -1, high: 4, seed: 10 + UInt64(step))
        let y = layer(x)
        let s = channelStatistics(x)
        expectClose(y.scalars, normalised(x, mean: s.mean, variance: s.biased, weight: weight, bias: bias),
                    absolute: 1e-5)
        for c in 0..<shape[1] {
            runningMean[c] = 0.9 * runningMean[c] + 0.1 * s.mean[c]
            runningVar[c] = 0.9 * runningVar[c] + 0.1 * s.unbiased[c]
        }
        expectClose(layer.runningMean!.scalars, runningMean.map { Float($0) })
        expectClose(layer.runningVar!.scalars, runningVar.map { Float($0) })
        #expect(layer.numBatchesTracked!.item() == Float(step + 1))
    }

    layer.eval()
    let x = randomTensor(shape, seed: 20)
    let before = layer.stateDict().map(\.tensor.scalars)
    expectClose(layer(x).scalars, normalised(x, mean: runningMean, variance: runningVar, weight: weight, bias: bias),
                absolute: 1e-5)
    #expect(layer.stateDict().map(\.tensor.scalars) == before)  // eval changes no buffer
}

@Test func momentumNilIsACumulativeAverage() {
    let layer = BatchNorm1d(2, momentum: nil)
    let batches = (0..<3).map { randomTensor([5, 2], low: -2, high: 2, seed: 30 + UInt64($0)) }
    for x in batches { _ = layer(x) }
    let means = batches.map { channelStatistics($0).mean }
    expectClose(layer.runningMean!.scalars, (0..<2).map { c in Float(means.map { $0[c] }.reduce(0, +) / 3) })
}

@Test func trainAndEvalReachEveryLayerOfTheTree() {
    var generator = RandomGenerator(seed: 1)
    let inner = Sequential(Linear(4, 4, generator: &generator), BatchNorm1d(4), Dropout(0.2))
    let model = Sequential(inner, ReLU(), Dropout(0.1))
    let layers: [any ModeDependent] = [inner.layers[1] as! BatchNorm1d, inner.layers[2] as! Dropout,
                                       model.layers[2] as! Dropout]
    #expect(layers.allSatisfy { $0.isTraining })
    model.eval()
    #expect(layers.allSatisfy { !$0.isTraining })
    model.train()
    #expect(layers.allSatisfy { $0.isTraining })
    model.train(false)
    #expect(layers.allSatisfy { !$0.isTraining })
}

@Test func summaryRunsInEvalModeAndRestoresTheModes() {
    let model = Sequential(BatchNorm1d(3), Dropout(0.5))
    let text = model.summary(inputShape: [1, 3])  // a batch of 1 would stop training-mode BatchNorm
    #expect(text.contains("BatchNorm1d (3)"))
    #expect(text.contains("Dropout (p=0.5)"))
    #expect((model.layers[0] as! BatchNorm1d).numBatchesTracked!.item() == 0)
    #expect((model.layers[0] as! BatchNorm1d).isTraining && (model.layers[1] as! Dropout).isTraining)
}

@Test func trainingOnASingleValuePerChannelStops() async {
    await #expect(processExitsWith: .failure) { _ = BatchNorm1d(3)(Tensor.ones([1, 3])) }
}

// MARK: SyncBatchNorm without MPI

/// An allreduce of two "ranks" running on two threads: each deposits its
/// values and waits at a barrier; both then take slot 0 + slot 1 (the same
/// order on both, as a deterministic allreduce would).
private final class TwoRankReducer: @unchecked Sendable {
    private let condition = NSCondition()
    private var slots: [[Double]?] = [nil, nil]
    private var result: [Double] = []
    private var round = 0
    private(set) var calls = 0

    func reduce(rank: Int, _ values: inout [Double]) {
        condition.lock()
        defer { condition.unlock() }
        calls += 1
        let myRound = round
        slots[rank] = values
        if let a = slots[0], let b = slots[1] {
            precondition(a.count == b.count, "ranks reduced arrays of different lengths")
            result = zip(a, b).map { $0 + $1 }
            slots = [nil, nil]
            round += 1
            condition.broadcast()
        } else {
            while round == myRound { condition.wait() }
        }
        values = result
    }
}

/// What one rank computed: output, input gradient, parameter gradients, buffers.
private final class RankResult: @unchecked Sendable {
    var output: [Float] = []
    var inputGradient: [Float] = []
    var parameterGradients: [[Float]] = []
    var buffers: [[Float]] = []
}

/// Forward in training mode and backward of sum(y * g) for a fresh BatchNorm2d.
private func run(_ x: Tensor, _ g: Tensor, samples: [Int], reducer: StatisticsReducer?) -> RankResult {
    let layer = BatchNorm2d(3)
    let weight = randomTensor([3], low: 0.5, high: 1.5, seed: 7).scalars
    layer.weight!.data.update(from: weight, count: 3)
    let input = x.copy()
    input.requiresGrad = true
    let y = ForwardContext(seed: 0, epoch: 0, sampleIndices: samples, statisticsReducer: reducer).run { layer(input) }
    y.backward(gradient: g)  // after the context's scope: the reducer is kept in the graph
    let result = RankResult()
    result.output = y.scalars
    result.inputGradient = input.grad!.scalars
    result.parameterGradients = layer.parameters().map { $0.grad!.scalars }
    result.buffers = layer.namedBuffers().map(\.tensor.scalars)
    return result
}

@Test func syncBatchNormOnTwoThreadsEqualsOneBatchOfEight() {
    let x = randomTensor([8, 3, 2, 2], low: -1, high: 3, seed: 40)
    let g = randomTensor([8, 3, 2, 2], seed: 41)
    let whole = run(x, g, samples: Array(0..<8), reducer: nil)

    let half = 4 * 12
    let halves = (0..<2).map { r in
        (Tensor(shape: [4, 3, 2, 2], values: Array(x.scalars[(r * half)..<((r + 1) * half)])),
         Tensor(shape: [4, 3, 2, 2], values: Array(g.scalars[(r * half)..<((r + 1) * half)])))
    }
    let reducer = TwoRankReducer()
    let results = [RankResult(), RankResult()]
    let done = DispatchSemaphore(value: 0)
    final class Inputs: @unchecked Sendable {
        let halves: [(Tensor, Tensor)]
        init(_ halves: [(Tensor, Tensor)]) { self.halves = halves }
    }
    let inputs = Inputs(halves)
    for rank in 0..<2 {
        let thread = Thread {
            let (xr, gr) = inputs.halves[rank]
            let r = run(xr, gr, samples: Array((rank * 4)..<(rank * 4 + 4))) { reducer.reduce(rank: rank, &$0) }
            results[rank].output = r.output
            results[rank].inputGradient = r.inputGradient
            results[rank].parameterGradients = r.parameterGradients
            results[rank].buffers = r.buffers
            done.signal()
        }
        thread.start()
    }
    done.wait()
    done.wait()

    #expect(reducer.calls == 4)  // forward and backward, on each rank
    expectClose(results[0].output + results[1].output, whole.output, absolute: 1e-5)
    expectClose(results[0].inputGradient + results[1].inputGradient, whole.inputGradient, absolute: 1e-5)
    // Parameter gradients are local: their sum over ranks (the gradient allreduce) is the whole batch's.
    for k in 0..<2 {
        let summed = zip(results[0].parameterGradients[k], results[1].parameterGradients[k]).map { $0 + $1 }
        expectClose(summed, whole.parameterGradients[k], absolute: 1e-5)
    }
    // Every rank keeps the global running statistics.
    for r in results {
        for (b, w) in zip(r.buffers, whole.buffers) { expectClose(b, w, absolute: 1e-6) }
    }

    // Without the reducer the halves normalise with their own statistics: different.
    let local = run(halves[0].0, halves[0].1, samples: Array(0..<4), reducer: nil)
    #expect(local.output != results[0].output)
}
