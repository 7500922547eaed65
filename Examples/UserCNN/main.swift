import DataLoading
import NN
import TensorCore
import Training
import UserModels

// The CIFAR-style CNN a user writes (Examples/UserModels), trained on
// Fashion-MNIST alone or under `mpirun -np N`; `--cifar-shaped` reads the
// images as 3x32x32, as a model written for CIFAR-10 wants them. Run again
// to resume from runs/user-cnn.

/// What checkpoints record about the model; resuming checks it.
struct UserCNNConfig: Codable {
    var inputShape = [1, 28, 28]
}

Trainer.main {
    let arguments = CommandLine.arguments.dropFirst()
    var config = UserCNNConfig()
    if arguments.contains("--cifar-shaped") { config.inputShape = CIFARShaped.shape }
    var generator = RandomGenerator(seed: 0)
    let model = cifarStyleCNN(inputShape: config.inputShape, generator: &generator)

    let data = try DatasetCatalog.load(name: "fashion-mnist")
    let cifarShaped = config.inputShape == CIFARShaped.shape
    let train: any Dataset = cifarShaped ? CIFARShaped(data.train) : data.train
    let test: any Dataset = cifarShaped ? CIFARShaped(data.test) : data.test
    var options = TrainingOptions()
    options.epochs = 1
    options.checkpointDirectory = "runs/user-cnn"
    options.checkpointEvery = 200
    // `--max-steps N` stops early (the suite runs a few steps).
    options.maxSteps = zip(arguments, arguments.dropFirst()).first { $0.0 == "--max-steps" }.flatMap { Int($0.1) }

    let trainer = try Trainer(model: model, identity: ModelIdentity(name: "user-cnn", config: config),
                              train: train, evaluation: test, loss: .crossEntropy, metrics: [.accuracy],
                              options: options, datasetName: "fashion-mnist", generatorState: generator.state)
    let outcome = try trainer.fit()
    if trainer.rank == 0 {
        print("user-cnn: \(outcome)")
        if let last = trainer.records.last { print("user-cnn: test accuracy \(last.test.accuracy) after epoch \(last.epoch)") }
    }
}
