import DataLoading
import Foundation
import NN
import TensorCore
import Training
import UserModels

// Trains one of the user-shaped models of Examples/UserModels (the ones
// `trainer bench` times) on Fashion-MNIST, alone or under `mpirun -np N`,
// with checkpoints in runs/<model>; run it again to resume.
//
//     user-model user-cnn                    # the CIFAR-style CNN on 1x28x28
//     user-model user-cnn32 --max-steps 200  # the same on 3x32x32 images
//     user-model user-rnn --deterministic --micro-batches 4   # bitwise the same at np=1, 2, 4
//     user-model user-cnn --without-batchnorm --deterministic # (--deterministic refuses BatchNorm)

/// What checkpoints record about the model; resuming checks it.
struct UserModelConfig: Codable {
    var model: String
    var batchNorm: Bool
}

/// Refuses this program's own argument `flag` (its command line is its
/// own: `TrainingError.invalidOption` names the library's options), printed
/// as `Trainer.main` prints errors, with the status of a bad option (64).
func refuse(_ flag: String, _ problem: String) -> Never {
    FileHandle.standardError.write(Data("Error: \(flag): \(problem)\n".utf8))
    exit(TrainingError.permanentExitStatus)
}

/// The value after `flag` in the arguments, if there is one.
func value(of flag: String) -> String? {
    let arguments = Array(CommandLine.arguments.dropFirst())
    return zip(arguments, arguments.dropFirst()).first { $0.0 == flag }?.1
}

Trainer.main {
    let names = UserWorkload.all.map(\.name)
    guard let name = CommandLine.arguments.dropFirst().first, let workload = UserWorkload.named(name) else {
        refuse("MODEL", "name one of \(names.joined(separator: ", ")) first")
    }
    let config = UserModelConfig(model: name, batchNorm: !CommandLine.arguments.contains("--without-batchnorm"))
    var generator = RandomGenerator(seed: 0)
    let model = workload.build(&generator, config.batchNorm)

    let data = try DatasetCatalog.load(name: "fashion-mnist")
    let cifarShaped = workload.inputShape == CIFARShaped.shape
    let train: any Dataset = cifarShaped ? CIFARShaped(data.train) : data.train
    let test: any Dataset = cifarShaped ? CIFARShaped(data.test) : data.test
    var options = TrainingOptions()
    options.epochs = 1
    options.checkpointDirectory = "runs/\(name)"
    options.checkpointEvery = 50
    options.maxSteps = value(of: "--max-steps").map {
        guard let steps = Int($0) else { refuse("--max-steps", "'\($0)' is not a whole number") }
        return steps
    }
    options.deterministic = CommandLine.arguments.contains("--deterministic")
    options.microBatches = value(of: "--micro-batches").map {
        guard let count = Int($0) else { refuse("--micro-batches", "'\($0)' is not a whole number") }
        return count
    }

    let trainer = try Trainer(model: model, identity: ModelIdentity(name: name, config: config),
                              train: train, evaluation: test, loss: .crossEntropy, metrics: [.accuracy],
                              options: options, datasetName: "fashion-mnist")
    let outcome = try trainer.fit()
    if trainer.rank == 0 {
        print("\(name): \(outcome)")
        if let last = trainer.records.last { print("\(name): test accuracy \(last.test.accuracy) after epoch \(last.epoch)") }
    }
}
