import ArgumentParser
import DataLoading
import Foundation
import Training

extension TrainingConfiguration.OptimizerKind: ExpressibleByArgument {}
extension Training.ModelTask: ExpressibleByArgument {}
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
    var task: Training.ModelTask?

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

    @Option(help: "BLAS threads for this process (default: 1 per rank under mpirun, all cores when alone).")
    var threads: Int?

    @Option(help: "Checkpoint directory (default: runs/<model>).")
    var checkpointDir: String?

    @Option(help: "Save a checkpoint every N optimizer steps (0: only at epoch ends and at the end).")
    var checkpointEvery = 500

    @Option(help: "Checkpoints to keep; older ones are deleted once a new one is complete.")
    var keep = 3

    @Option(help: "auto (the newest valid checkpoint in --checkpoint-dir, if any), never, or a checkpoint file.")
    var resume = "auto"

    @Option(help: "Abort the job when a step makes no progress for this many seconds (0: never).")
    var stepTimeout: Double = 300

    @Option(help: "Batches assembled ahead on a background thread (0: on the training thread).")
    var prefetch = 2

    @Flag(help: "After every step, check that all ranks hold bitwise identical parameters.")
    var checkReplicas = false

    @Option(help: "Each rank appends the indices of the samples it trains on to PATH.rank<r> (int32), to check the sample order.")
    var recordSamples: String?

    @Option(help: "Write the final parameters to this file as raw little-endian float32 (state_dict order).")
    var saveParameters: String?

    @Flag(help: "Bitwise the same parameters, optimizer state, losses and test figures at every supported world size (powers of two dividing --micro-batches), and so on resuming at another world size. One BLAS thread per rank unless --threads says otherwise.")
    var deterministic = false

    @Option(help: "With --deterministic: micro-batches per global batch, a power of two dividing --batch-size; the run can then resume at every world size that divides it (default: the checkpoint's when resuming, else the world size).")
    var microBatches: Int?

    @Option(help: "Size in MB of the gradient buckets whose allreduce overlaps backward (under mpirun).")
    var bucketMb: Double = TrainingConfiguration(model: ModelSpec(name: "mlp")).bucketMegabytes

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
        c.bucketMegabytes = bucketMb
        c.deterministic = deterministic
        c.microBatches = microBatches
        c.prefetch = prefetch
        c.checkpointDirectory = checkpointDir
        c.checkpointEvery = checkpointEvery
        c.keep = keep
        c.resume = ResumePolicy(argument: resume)
        c.stepTimeout = stepTimeout
        c.checkReplicas = checkReplicas
        c.saveParametersPath = saveParameters
        c.sampleLogPath = recordSamples
        let communicator = try Job.communicator()
        // Deterministic mode keeps the thread count out of the arithmetic.
        c.threads = threads ?? (deterministic ? 1 : Job.defaultThreads(communicator))
        try Job.run(communicator) {
            let trainer = try Trainer(configuration: c, communicator: communicator)
            if summary { trainer.logModelSummary() }
            try trainer.run()
            if trainer.rank == 0 && trainer.checkpointsSaved > 0 {
                let seconds = String(format: "%.1f", trainer.checkpointStallSeconds * 1000)
                trainer.progress.log("checkpoints: \(trainer.checkpointsSaved) saved in \(c.resolvedCheckpointDirectory), "
                                     + "training thread stalled \(seconds) ms in total")
            }
        }
    }
}

extension TrainCommand {
    /// `--layers` as widths, or the error naming the flag.
    func parsedLayers() throws -> [Int] {
        try ModelSpec.parseLayers(layers)
    }
}
