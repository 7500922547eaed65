import ArgumentParser
import Collective
import Foundation
import DataLoading
import Training

// The command line's options, each declared once in the group it belongs
// to, with defaults taken from `TrainingOptions`; `train`, `bench`, `eval`
// and `experiment` include the groups they use. Where commands differ in a
// default (`--threads`, `--batch-size`), the option is optional and each
// command passes its own default to the group's `resolved`. Bad values are
// refused by `TrainingOptions.validate()` (or the model's): one error,
// `TrainingError.invalidOption` with the option's `OptionKey`, printed
// with the flag.

private let defaults = TrainingOptions()

/// Where the data comes from: a catalog data set (or the user's HDF5 file,
/// `train --data`) and the directory of its files.
struct DataOptions: ParsableArguments {
    @Option(help: "Data set: \(DatasetCatalog.names.joined(separator: ", ")) (default: fashion-mnist for train, the checkpoint's for eval; the campaigns choose their own).")
    var dataset: String?

    @OptionGroup var directory: DataDirectoryOption

    /// `--data-dir`.
    var dataDir: String? { directory.dataDir }
}

/// `--data-dir`: in `DataOptions`, and alone in `bench`, which always
/// reads Fashion-MNIST.
struct DataDirectoryOption: ParsableArguments {
    @Option(help: "Directory holding the data set's files (default: /usr/share/datasets/fashion-mnist for fashion-mnist, the data set of bench; ../shared/data/mnist for mnist; cifar10 has none: the directory of data_batch_1.bin ... test_batch.bin).")
    var dataDir: String?
}

/// `--batch-size`, for every command that runs batches: the global batch
/// of `train` (in `OptimizationOptions`) and `bench`, the evaluation batch
/// of `eval`. Each command passes its default to `resolved`, as for
/// `--threads`: `TrainingOptions`' batch size (64) for train and bench, its
/// evaluation batch size (1000) for eval.
struct BatchSizeOption: ParsableArguments {
    @Option(parsing: .unconditional, help: "Samples per step, summed over all ranks: the global batch of train and bench (default: 64; the last partial batch of an epoch is dropped), the evaluation batch of eval (default: 1000).")
    var batchSize: Int?

    /// `--batch-size`, or the command's `default`.
    func resolved(default: Int) -> Int { batchSize ?? `default` }
}

/// BLAS threads per process, for every command that computes.
struct ThreadsOption: ParsableArguments {
    @Option(parsing: .unconditional, help: "BLAS threads for this process (default: 1 per rank under mpirun or with --deterministic, all cores when alone; bench: 1).")
    var threads: Int?

    /// `--threads`, or one per rank under mpirun (and with `oneByDefault`),
    /// all cores alone.
    func resolved(_ communicator: Communicator?, oneByDefault: Bool = false) -> Int {
        threads ?? (oneByDefault ? 1 : Job.defaultThreads(communicator))
    }
}

/// What is optimised, and for how long.
struct OptimizationOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Number of epochs.")
    var epochs = defaults.epochs

    @Option(parsing: .unconditional, help: "Stop after this many optimizer steps in total.")
    var maxSteps: Int?

    @OptionGroup var batch: BatchSizeOption

    @Option(help: "Optimizer: sgd, adam, adamw or rmsprop (torch.optim's formulas).")
    var optimizer = defaults.optimizer

    @Option(parsing: .unconditional, help: "Learning rate.", transform: NumberArgument.float32)
    var lr = defaults.learningRate

    @Option(parsing: .unconditional, help: "SGD's or RMSprop's momentum (0 for none).", transform: NumberArgument.float32)
    var momentum = defaults.momentum

    @Option(parsing: .unconditional, help: "torch.optim's weight_decay: L2 for sgd, adam and rmsprop, decoupled for adamw (default 0; 0.01 for adamw, as torch).", transform: NumberArgument.float32)
    var weightDecay: Float?

    @Option(parsing: .unconditional, help: "RMSprop's smoothing constant.", transform: NumberArgument.float32)
    var alpha = defaults.alpha

    @Flag(help: "Centered RMSprop (normalises by an estimate of the gradient's variance).")
    var centered = false

    @Option(help: "Learning-rate schedule: none, step (StepLR), multistep (MultiStepLR), cosine (CosineAnnealingLR) or warmup-cosine (LinearLR warm-up, then cosine).")
    var lrSchedule = defaults.schedule.kind

    @Option(help: "What the schedule counts: epoch (scheduler.step() after each epoch) or step (after each optimizer step).")
    var lrScheduleUnit = defaults.schedule.unit

    @Option(parsing: .unconditional, help: "StepLR: decay the rate every N units.")
    var lrStepSize: Int?

    @Option(parsing: .unconditional, help: "StepLR and MultiStepLR: the decay factor.", transform: NumberArgument.float32Double)
    var lrGamma = defaults.schedule.gamma

    @Option(parsing: .unconditional, help: "MultiStepLR: the units at which to decay, e.g. 30,80.")
    var lrMilestones: String?

    @Option(parsing: .unconditional, help: "cosine: T_max, the units of one half-period; warmup-cosine: the whole length, warm-up included.")
    var lrTMax: Int?

    @Option(parsing: .unconditional, help: "cosine and warmup-cosine: the rate's minimum (eta_min).", transform: NumberArgument.float32Double)
    var lrEtaMin = defaults.schedule.etaMin

    @Option(parsing: .unconditional, help: "warmup-cosine: the units of the linear warm-up (from 1/3 of --lr, torch's LinearLR default).")
    var lrWarmup: Int?

    @Option(parsing: .unconditional, help: "Clip the averaged gradient to this global 2-norm before each step (clip_grad_norm_); logs the epoch's mean norm.")
    var clipGradNorm: Double?

    @Option(parsing: .unconditional, help: "Gradient accumulation: K forward/backward passes per optimizer step, each on a K-th of every rank's share of --batch-size (less memory, the same global batch).")
    var accumulate = defaults.accumulate

    @Option(parsing: .unconditional, help: "Seed for initialisation and shuffling; the same seed gives the same run.")
    var seed = defaults.seed

    @Flag(help: "Keep the data set's order instead of shuffling each epoch.")
    var noShuffle = false

    func apply(to o: inout TrainingOptions) throws {
        if let lrMilestones {
            let parts = lrMilestones.split(separator: ",", omittingEmptySubsequences: false)
            let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == parts.count, !values.isEmpty else {
                throw TrainingError.invalidOption(.scheduleMilestones, "'\(lrMilestones)' is not a comma-separated list of whole numbers")
            }
            o.schedule.milestones = values
        }
        o.epochs = epochs
        o.maxSteps = maxSteps
        o.batchSize = batch.resolved(default: defaults.batchSize)
        o.optimizer = optimizer
        o.learningRate = lr
        o.momentum = momentum
        o.weightDecay = weightDecay
        o.alpha = alpha
        o.centered = centered
        o.schedule.kind = lrSchedule
        o.schedule.unit = lrScheduleUnit
        o.schedule.stepSize = lrStepSize
        o.schedule.gamma = lrGamma
        o.schedule.tMax = lrTMax
        o.schedule.etaMin = lrEtaMin
        o.schedule.warmup = lrWarmup
        o.clipGradientNorm = clipGradNorm
        o.accumulate = accumulate
        o.seed = seed
        o.shuffle = !noShuffle
    }
}

/// Where checkpoints go and which one a run starts from.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "Checkpoint directory (default: runs/<model>).")
    var checkpointDir: String?

    @Option(parsing: .unconditional, help: "Save a checkpoint every N optimizer steps (0: only at epoch ends and at the end).")
    var checkpointEvery = defaults.checkpointEvery

    @Option(parsing: .unconditional, help: "Checkpoints to keep; older ones are deleted once a new one is complete.")
    var keep = defaults.keep

    @Flag(help: "Write no checkpoints (and resume none): nothing is saved, no directory is made.")
    var noCheckpoints = false

    @Flag(help: "No checkpoint at the end of each epoch: only every --checkpoint-every steps and where --max-steps ends the run.")
    var noEpochCheckpoints = false

    @Option(help: "auto (the newest valid checkpoint in --checkpoint-dir, if any), never, or a checkpoint file (./auto for a file called auto).")
    var resume = "auto"

    @Flag(help: "Take over a --checkpoint-dir holding checkpoints this run does not continue (--resume never there, or --resume PATH from another run): they are moved into DIR/replaced-<time>/, not deleted. Without it such runs are refused.")
    var overwrite = false

    @Option(help: "On resume, accept a changed hyper-parameter on purpose and log it: lr, momentum or weight_decay (repeat for several). Without it a difference from the checkpoint is refused.")
    var override: [OverridableSetting] = []

    @Option(help: "Also write best.h5 in --checkpoint-dir: the epoch-end state with the best value so far of this metric (val_loss, val_accuracy, test_loss, test_accuracy, train_loss); never pruned by --keep.")
    var keepBest: String?

    @Option(parsing: .unconditional, help: "End the run when --keep-best's metric has not improved for this many epochs.")
    var earlyStop: Int?

    func apply(to o: inout TrainingOptions) throws {
        o.keepBest = try keepBest.map(MonitoredMetric.init)
        o.earlyStopPatience = earlyStop
        o.overwrite = overwrite
        o.overrides = Set(override)
        o.checkpointDirectory = checkpointDir
        o.checkpointEvery = checkpointEvery
        o.savesCheckpoints = !noCheckpoints
        o.checkpointAtEpochEnd = !noEpochCheckpoints
        o.keep = keep
        o.resume = ResumePolicy(argument: resume)
    }
}

/// How the work is spread over threads, ranks and gradient buckets: what
/// `train` and `bench` share.
struct ParallelOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Batches assembled ahead on a background thread (0: on the training thread).")
    var prefetch = defaults.prefetch

    @Option(parsing: .unconditional, help: "Size in MB of the gradient buckets whose reduction overlaps backward (under mpirun).")
    var bucketMb = defaults.bucketMegabytes

    @Flag(inversion: .prefixedNo, help: "Under mpirun, shard the optimizer (ZeRO stage 1): each rank updates and keeps optimizer state for 1/np of the parameters, gradients are reduce-scattered and parameters allgathered. Same results; checkpoints keep the full layout.")
    var shardOptimizer = defaults.shardOptimizer

    @Flag(inversion: .prefixedNo, help: "With --shard-optimizer, ranks on one machine sum gradients by reading each other's in shared memory (MPI-3 windows) and hold one copy of the parameters there, instead of exchanging messages. Same results.")
    var sharedMemory = defaults.sharedMemory

    @Option(parsing: .unconditional, help: "With --deterministic (bench: --mode deterministic): micro-batches per global batch, a power of two dividing --batch-size; the run can then resume at every world size that divides it (default: the checkpoint's when resuming, else the world size).")
    var microBatches: Int?

    func apply(to o: inout TrainingOptions) {
        o.prefetch = prefetch
        o.bucketMegabytes = bucketMb
        o.shardOptimizer = shardOptimizer
        o.sharedMemory = sharedMemory
        o.microBatches = microBatches
    }
}

/// The safety nets and records of a training run.
struct RuntimeOptions: ParsableArguments {
    @Flag(help: "Bitwise the same parameters, optimizer state, losses and test figures at every supported world size (powers of two dividing --micro-batches), and so on resuming at another world size. One BLAS thread per rank unless --threads says otherwise.")
    var deterministic = false

    @Option(parsing: .unconditional, help: "Abort the job when a step makes no progress for this many seconds (0: never).")
    var stepTimeout = defaults.stepTimeout

    @Option(help: "Append one JSON object per epoch to this file.")
    var metrics: String?

    @Flag(help: "After every step, check that all ranks hold bitwise identical parameters.")
    var checkReplicas = false

    @Option(help: "Each rank appends the indices of the samples it trains on to PATH.rank<r> (int32), to check the sample order.")
    var recordSamples: String?

    @Option(help: "Write the final parameters to this file as raw little-endian float32 (state_dict order).")
    var saveParameters: String?

    @Option(help: "Write TensorBoard event files here (train loss and lr per step, the epoch metrics); a resumed run appends without repeating steps.")
    var tensorboard: String?

    func apply(to o: inout TrainingOptions) {
        o.deterministic = deterministic
        o.stepTimeout = stepTimeout
        o.metricsPath = metrics
        o.checkReplicas = checkReplicas
        o.sampleLogPath = recordSamples
        o.saveParametersPath = saveParameters
        o.tensorboardDirectory = tensorboard
    }
}

/// The one place where a number the user typed becomes a float32 (or a
/// Double that the training arithmetic turns into one): a value that float32
/// would turn into 0 or infinity is refused with the text as typed, instead
/// of reaching the validation as "got 0.0" or "got inf". ArgumentParser's
/// error names the flag: "The value '1e-300' is invalid for '--lr <lr>': ...".
enum NumberArgument {
    /// A problem with a typed number; the description is the whole reason.
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// `text` as a float32.
    static func float32(_ text: String) throws -> Float {
        Float(try float32Double(text))
    }

    /// `text` as a Double that float32 represents without flushing it to 0
    /// or overflowing it to infinity. NaN and "inf" pass: the options'
    /// validation says what they accept.
    static func float32Double(_ text: String) throws -> Double {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
            throw Problem(description: "'\(text)' is not a number")
        }
        let typedInfinity = text.lowercased().contains("inf")
        let typedZero = !text.lowercased().split(separator: "e", maxSplits: 1).first.map { $0.contains { "123456789".contains($0) } }!
        if value.isNaN || typedInfinity { return value }
        if !value.isFinite || abs(value) > Double(Float.greatestFiniteMagnitude) {
            throw Problem(description: "\(text) is above float32's range (largest \(Float.greatestFiniteMagnitude)); "
                          + "the value is used as a float32")
        }
        if !typedZero && Float(value) == 0 {
            throw Problem(description: "\(text) is below float32's range (smallest positive \(Float.leastNonzeroMagnitude)) "
                          + "and would be 0; the value is used as a float32")
        }
        return value
    }
}
