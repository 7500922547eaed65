import ArgumentParser
import DataLoading
import Training

// The command line's options, each declared once in the group it belongs
// to, with defaults taken from `TrainingOptions`; `train`, `bench` and
// `experiment` include the groups they use. Bad values are refused by
// `TrainingOptions.validate()` (or the model's), one error type that names
// the flag.

private let defaults = TrainingOptions()

/// Where the data comes from: a catalog data set or the user's HDF5 file.
struct DataOptions: ParsableArguments {
    @Option(help: "Data set: \(DatasetCatalog.names.joined(separator: ", ")) (default: fashion-mnist; the campaigns choose their own).")
    var dataset: String?

    @Option(help: "Directory holding the data set's files (default: /usr/share/datasets/fashion-mnist for fashion-mnist, ../shared/data/mnist for mnist; cifar10 has none: the directory of data_batch_1.bin ... test_batch.bin).")
    var dataDir: String?
}

/// What is optimised, and for how long.
struct OptimizationOptions: ParsableArguments {
    @Option(help: "Number of epochs.")
    var epochs = defaults.epochs

    @Option(help: "Stop after this many optimizer steps in total.")
    var maxSteps: Int?

    @Option(help: "Global batch size (summed over all ranks). The last partial batch of an epoch is dropped.")
    var batchSize = defaults.batchSize

    @Option(help: "Optimizer: sgd or adam.")
    var optimizer = defaults.optimizer

    @Option(help: "Learning rate.")
    var lr = defaults.learningRate

    @Option(help: "SGD momentum (0 for none).")
    var momentum = defaults.momentum

    @Option(help: "L2 weight decay, as torch.optim's weight_decay.")
    var weightDecay = defaults.weightDecay

    @Option(help: "Seed for initialisation and shuffling; the same seed gives the same run.")
    var seed = defaults.seed

    @Flag(help: "Keep the data set's order instead of shuffling each epoch.")
    var noShuffle = false

    func apply(to o: inout TrainingOptions) {
        o.epochs = epochs
        o.maxSteps = maxSteps
        o.batchSize = batchSize
        o.optimizer = optimizer
        o.learningRate = lr
        o.momentum = momentum
        o.weightDecay = weightDecay
        o.seed = seed
        o.shuffle = !noShuffle
    }
}

/// Where checkpoints go and which one a run starts from.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "Checkpoint directory (default: runs/<model>).")
    var checkpointDir: String?

    @Option(help: "Save a checkpoint every N optimizer steps (0: only at epoch ends and at the end).")
    var checkpointEvery = defaults.checkpointEvery

    @Option(help: "Checkpoints to keep; older ones are deleted once a new one is complete.")
    var keep = defaults.keep

    @Option(help: "auto (the newest valid checkpoint in --checkpoint-dir, if any), never, or a checkpoint file (./auto for a file called auto).")
    var resume = "auto"

    @Flag(help: "Take over a --checkpoint-dir holding checkpoints this run does not continue (--resume never there, or --resume PATH from another run): they are moved into DIR/replaced-<time>/, not deleted. Without it such runs are refused.")
    var overwrite = false

    @Option(help: "On resume, accept a changed hyper-parameter on purpose and log it: lr, momentum or weight_decay (repeat for several). Without it a difference from the checkpoint is refused.")
    var override: [OverridableSetting] = []

    func apply(to o: inout TrainingOptions) {
        o.overwrite = overwrite
        o.overrides = Set(override)
        o.checkpointDirectory = checkpointDir
        o.checkpointEvery = checkpointEvery
        o.keep = keep
        o.resume = ResumePolicy(argument: resume)
    }
}

/// How the work is spread over threads, ranks and gradient buckets: what
/// `train` and `bench` share.
struct ParallelOptions: ParsableArguments {
    @Option(help: "Batches assembled ahead on a background thread (0: on the training thread).")
    var prefetch = defaults.prefetch

    @Option(help: "Size in MB of the gradient buckets whose reduction overlaps backward (under mpirun).")
    var bucketMb = defaults.bucketMegabytes

    @Option(help: "With --deterministic (bench: --mode deterministic): micro-batches per global batch, a power of two dividing --batch-size; the run can then resume at every world size that divides it (default: the checkpoint's when resuming, else the world size).")
    var microBatches: Int?

    func apply(to o: inout TrainingOptions) {
        o.prefetch = prefetch
        o.bucketMegabytes = bucketMb
        o.microBatches = microBatches
    }
}

/// The safety nets and records of a training run.
struct RuntimeOptions: ParsableArguments {
    @Flag(help: "Bitwise the same parameters, optimizer state, losses and test figures at every supported world size (powers of two dividing --micro-batches), and so on resuming at another world size. One BLAS thread per rank unless --threads says otherwise.")
    var deterministic = false

    @Option(help: "Abort the job when a step makes no progress for this many seconds (0: never).")
    var stepTimeout = defaults.stepTimeout

    @Option(help: "Append one JSON object per epoch to this file.")
    var metrics: String?

    @Flag(help: "After every step, check that all ranks hold bitwise identical parameters.")
    var checkReplicas = false

    @Option(help: "Each rank appends the indices of the samples it trains on to PATH.rank<r> (int32), to check the sample order.")
    var recordSamples: String?

    @Option(help: "Write the final parameters to this file as raw little-endian float32 (state_dict order).")
    var saveParameters: String?

    func apply(to o: inout TrainingOptions) {
        o.deterministic = deterministic
        o.stepTimeout = stepTimeout
        o.metricsPath = metrics
        o.checkReplicas = checkReplicas
        o.sampleLogPath = recordSamples
        o.saveParametersPath = saveParameters
    }
}
