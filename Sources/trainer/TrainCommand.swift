import ArgumentParser
import DataLoading
import Foundation
import Training

extension TrainingConfiguration.OptimizerKind: ExpressibleByArgument {}
extension Training.Task: ExpressibleByArgument {}
extension ReconstructionLoss: ExpressibleByArgument {}

/// `trainer train`: the flags map one to one onto `TrainingConfiguration`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model and report test loss and accuracy after each epoch.")

    @Option(help: "Model: \(ModelSpec.names.joined(separator: ", ")).")
    var model = "mlp"

    @Option(help: "Hidden width of the mlp, and the width of highway's layers.")
    var hidden = 128

    @Option(help: "Code size of autoencoder, tied-autoencoder and highway --task reconstruct.")
    var latent = 64

    @Option(help: "Encoder widths of deep-autoencoder, comma-separated; the decoder mirrors them.")
    var layers = "500,100,30"

    @Option(help: "Number of highway layers (in each of encoder and decoder when reconstructing).")
    var depth = 3

    @Option(help: "What highway learns: classify or reconstruct (the other models have a fixed task).")
    var task: Training.Task?

    @Option(help: "Training loss of reconstruction models: bce or mse (the test figures report both).")
    var loss: ReconstructionLoss = .bce

    @Flag(help: "Print the model's layers, output shapes and parameter counts before training.")
    var summary = false

    @Option(help: "Data set: \(DatasetCatalog.names.joined(separator: ", ")).")
    var dataset = "fashion-mnist"

    @Option(help: "Directory holding the data set's files (default: /usr/share/datasets/fashion-mnist for fashion-mnist, ../shared/data/mnist for mnist; cifar10 has none: the directory of data_batch_1.bin ... test_batch.bin).")
    var dataDir: String?

    @Option(help: "Number of epochs.")
    var epochs = 1

    @Option(help: "Stop after this many optimizer steps in total.")
    var maxSteps: Int?

    @Option(help: "Global batch size (summed over all ranks). The last partial batch of an epoch is dropped.")
    var batchSize = 64

    @Option(help: "Optimizer: sgd or adam.")
    var optimizer: TrainingConfiguration.OptimizerKind = .adam

    @Option(help: "Learning rate.")
    var lr: Float = 0.001

    @Option(help: "SGD momentum (0 for none).")
    var momentum: Float = 0

    @Option(help: "L2 weight decay, as torch.optim's weight_decay.")
    var weightDecay: Float = 0

    @Option(help: "Seed for initialisation and shuffling; the same seed gives the same run.")
    var seed: UInt64 = 0

    @Flag(help: "Keep the data set's order instead of shuffling each epoch.")
    var noShuffle = false

    @Option(help: "Append one JSON object per epoch to this file.")
    var metrics: String?

    @Option(help: "BLAS threads for this process (default: all cores when alone).")
    var threads: Int?

    func run() throws {
        let spec = ModelSpec(name: model, hidden: hidden, latent: latent, layers: try parsedLayers(),
                             depth: depth, task: task, loss: loss)
        var c = TrainingConfiguration(model: spec)
        c.dataset = dataset
        c.dataDirectory = dataDir
        c.epochs = epochs
        c.maxSteps = maxSteps
        c.batchSize = batchSize
        c.optimizer = optimizer
        c.learningRate = lr
        c.momentum = momentum
        c.weightDecay = weightDecay
        c.seed = seed
        c.shuffle = !noShuffle
        c.metricsPath = metrics
        c.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        do {
            let trainer = try Trainer(configuration: c)
            if summary { trainer.logModelSummary() }
            try trainer.run()
        } catch let error as TrainingError {
            throw ValidationOrRuntimeError(error)
        }
    }
}

extension TrainCommand {
    /// `--layers` as widths, or the error naming the flag.
    func parsedLayers() throws -> [Int] {
        do {
            return try ModelSpec.parseLayers(layers)
        } catch let error as TrainingError {
            throw ValidationOrRuntimeError(error)
        }
    }
}

/// Prints a trainer error as the one-line message it is, with exit code 1.
struct ValidationOrRuntimeError: Error, CustomStringConvertible {
    let underlying: any Error
    init(_ underlying: any Error) { self.underlying = underlying }
    var description: String { String(describing: underlying) }
}
