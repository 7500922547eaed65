import Foundation
import NN
import Optim
import Testing
import TensorCore

// A sharded optimizer (ZeRO stage 1) is the same update split by elements:
// optimizers over disjoint shards of one parameter buffer, together, must
// give bitwise the parameters and the state of one optimizer over all of it.

/// The optimizers `trainer` offers, each with the options that give it the most state.
enum ShardedKind: String, CaseIterable, Sendable {
    case sgd, adam, adamw, rmsprop

    func make(_ parameters: ParameterSet, shard: Range<Int>?) -> any Optimizer {
        switch self {
        case .sgd: SGD(parameters, learningRate: 0.05, momentum: 0.9, weightDecay: 0.01, shard: shard)
        case .adam: Adam(parameters, learningRate: 0.01, weightDecay: 0.02, shard: shard)
        case .adamw: AdamW(parameters, learningRate: 0.01, shard: shard)
        case .rmsprop: RMSprop(parameters, learningRate: 0.01, weightDecay: 0.01, momentum: 0.5, centered: true, shard: shard)
        }
    }
}

/// A two-layer model's parameters (1,230 + 93 floats) with gradients that change every step.
private func shardFixture() -> ParameterSet {
    var generator = RandomGenerator(seed: 5)
    return ParameterSet(Sequential(Linear(40, 30, generator: &generator), Linear(30, 3, generator: &generator)))
}

private func setGradients(_ parameters: ParameterSet, step: Int) {
    for i in 0..<parameters.count { parameters.gradients.base[i] = Float(sin(Double(i * 7 + step * 13))) * Float(step + 1) }
}

@Test("Optimizers over disjoint shards give bitwise the parameters and the state of one optimizer over everything",
      arguments: ShardedKind.allCases)
func shardedOptimizerIsTheSameUpdate(kind: ShardedKind) {
    let whole = shardFixture(), split = shardFixture()
    #expect(Array(whole.values.buffer) == Array(split.values.buffer))
    let one = kind.make(whole, shard: nil)
    // Uneven shards, one of them empty, boundaries inside a parameter.
    let bounds = [0, 400, 400, 401, split.count]
    let shards = (0..<bounds.count - 1).map { bounds[$0]..<bounds[$0 + 1] }
    let parts = shards.map { kind.make(split, shard: $0) }
    for step in 0..<5 {
        setGradients(whole, step: step)
        setGradients(split, step: step)
        one.step()
        for part in parts { part.step() }
    }
    // By construction: the kernels are elementwise with no FMA contraction (FP_CONTRACT OFF), so an
    // element gets the same operations whichever shard, vector lane or scalar tail computes it.
    #expect(Array(whole.values.buffer) == Array(split.values.buffer))
    for name in one.stateNames {
        let joined = parts.flatMap { Array($0.stateBuffer(name)!.buffer) }
        #expect(joined == Array(one.stateBuffer(name)!.buffer), "state \(name)")
    }
    #expect(parts.map(\.stateBytes).reduce(0, +) == one.stateBytes)
    #expect(parts.allSatisfy { $0.stepCount == one.stepCount })
}

@Test("A shard's state(_:of:) gives a parameter's state only when the whole parameter lies in the shard")
func shardStateViews() {
    let parameters = shardFixture()
    // The first layer's weight is elements 0 ..< 1200, its bias 1200 ..< 1230.
    let adam = Adam(parameters, shard: 1200..<parameters.count)
    setGradients(parameters, step: 0)
    adam.step()
    #expect(adam.state("exp_avg", of: "0.weight") == nil)
    let bias = try! #require(adam.state("exp_avg", of: "0.bias"))
    #expect(bias.shape == [30])
    #expect(Array(UnsafeBufferPointer(start: bias.data, count: 30)) == Array(adam.firstMoment.buffer[0..<30]))
    #expect(adam.stateBytes == 2 * (parameters.count - 1200) * 4)
}
