import DataLoading
import NN
import Optim
import TensorCore
import Training

/// The course's least-squares problem as a regression data set of its own:
/// y = X beta + noise, 3 features, a float target per sample.
struct LeastSquares: SimpleDataset {
    static let beta: [Float] = [2, -3, 0.5]
    let x: [Float]
    let y: [Float]

    init(count: Int, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        var x: [Float] = [], y: [Float] = []
        for _ in 0..<count {
            let row = (0..<3).map { _ in generator.normal() }
            x += row
            y.append(zip(row, Self.beta).map(*).reduce(0, +) + 0.1 * generator.normal())
        }
        (self.x, self.y) = (x, y)
    }

    var count: Int { y.count }
    var sampleShape: [Int] { [3] }
    var targetShape: [Int] { [1] }

    // The simple form of Dataset: a sample as arrays, no class label.
    func sample(at index: Int) -> Sample {
        Sample(features: Array(x[index * 3..<index * 3 + 3]), target: [y[index]])
    }
}

/// The course's update, p -= lr * g, as an optimizer of one's own: any type
/// that conforms to `Optimizer` trains under the Trainer, also sharded
/// across ranks, where it updates only `shard`, the elements it is given.
final class PlainSGD: Optimizer {
    let parameters: ParameterSet
    let shard: Range<Int>
    var learningRate: Float
    var stepCount = 0
    var gradientScale: Float = 1  // 1 / world size: the reduced gradients are sums

    init(_ parameters: ParameterSet, learningRate: Float, shard: Range<Int>?) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.shard = shard ?? 0..<parameters.count
    }

    var typeName: String { "plain-sgd" }  // checkpoints record it and its hyper-parameters
    var hyperParameters: [String: Double] { ["lr": Double(learningRate)] }
    var stateNames: [String] { [] }
    func stateBuffer(_ name: String) -> Storage? { nil }

    func step() {
        let p = parameters.values.base, g = parameters.gradients.base
        for i in shard { p[i] -= learningRate * (g[i] * gradientScale) }
        stepCount += 1
    }
}

Trainer.main {
    var generator = RandomGenerator(seed: 0)
    let model = Linear(3, 1, generator: &generator)
    var options = TrainingOptions()
    options.batchSize = 16
    options.epochs = 6
    options.checkpointDirectory = "runs/least-squares"
    options.checkpointEvery = 200

    let trainer = try Trainer(model: model, identity: ModelIdentity(name: "least-squares"),
                              train: LeastSquares(count: 8_000, seed: 1), evaluation: LeastSquares(count: 1_000, seed: 2),
                              loss: .meanSquaredError, metrics: [.meanSquaredError], options: options,
                              datasetName: "least-squares",
                              optimizer: { PlainSGD($0, learningRate: 0.05, shard: $1) })
    let outcome = try trainer.fit()
    if trainer.rank == 0 {
        print("least-squares: \(outcome)")
        print("least-squares: beta \(model.weight.scalars) (true \(LeastSquares.beta)), bias \(model.bias!.scalars)")
    }
}
