import DataLoading
import NN
import TensorCore
import Training

/// The course's highway layer, y = H(x) T(x) + x (1 - T(x)), as a Module of its own.
final class Highway: Module {
    let transform: Linear
    let gate: Linear

    init(_ width: Int, generator: inout RandomGenerator) {
        transform = Linear(width, width, generator: &generator)
        gate = Linear(width, width, generator: &generator)
        gate.bias!.data.initialize(repeating: -2, count: width)  // start by carrying x through
    }

    func forward(_ x: Tensor) -> Tensor {
        let h = transform(x).relu()
        let t = gate(x).sigmoid()
        return h * t + x * (1 - t)
    }
    // No list of children or parameters: `transform` and `gate` are found
    // in the stored properties (named after them, in declaration order).
}

// Trainer.main prints an error as the trainer command does (one line, exit
// 64 or 1), where a top-level `try` would crash with a backtrace.
Trainer.main {
    let width = 64, depth = 3
    var generator = RandomGenerator(seed: 0)
    let model = Sequential([Flatten(), Linear(784, width, generator: &generator), ReLU()]
        + (0..<depth).map { _ in Highway(width, generator: &generator) }
        + [Linear(width, 10, generator: &generator)])

    let data = try DatasetCatalog.load(name: "fashion-mnist")  // /usr/share/datasets/fashion-mnist
    var options = TrainingOptions()
    options.epochs = 2
    options.checkpointDirectory = "runs/highway"  // in the current directory: run again to resume
    options.checkpointEvery = 100

    // Checkpoints name the model after its type ("sequential") and record
    // its modules' types, which resuming checks with every parameter's name
    // and shape. `identity: ModelIdentity(name:config:)` names it yourself.
    let trainer = try Trainer(model: model, train: data.train, evaluation: data.test,
                              loss: .crossEntropy, metrics: [.accuracy], options: options,
                              datasetName: "fashion-mnist")
    let outcome = try trainer.fit()  // alone, or every rank of `mpirun -np N`
    if trainer.rank == 0 {
        print("highway: \(outcome)")  // trained(steps:), resumed(fromStep:steps:) or nothingToDo(reason:)
        if let last = trainer.records.last {
            print("highway: test accuracy \(last.test.accuracy) after epoch \(last.epoch)")
        }
    }
}
