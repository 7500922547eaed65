import DataParallel
import Foundation

/// How a run treats the checkpoints already in its directory.
public enum ResumePolicy: Sendable, Codable, Equatable {
    /// The newest valid checkpoint in the directory, if any.
    case auto
    /// Start afresh (the directory's checkpoints are replaced as new ones are written).
    case never
    /// This checkpoint file.
    case path(String)

    /// `--resume`'s words: `auto`, `never`, or a path (`./auto` for a file named auto).
    public init(argument: String) {
        switch argument {
        case "auto": self = .auto
        case "never": self = .never
        default: self = .path(argument)
        }
    }
}

/// A setting a resumed run may change on purpose (`--override NAME`),
/// named as torch.optim names the hyper-parameter; any other difference
/// from the checkpoint is refused.
public enum OverridableSetting: String, Sendable, Codable, CaseIterable {
    case lr, momentum
    case weightDecay = "weight_decay"

    /// The option that sets it.
    public var key: OptionKey {
        switch self {
        case .lr: .learningRate
        case .momentum: .momentum
        case .weightDecay: .weightDecay
        }
    }
}

/// How to train, whatever the model and the data: the run options of the
/// training API (`Trainer`), shared by `trainer train`, the benchmark and
/// the campaigns.
public struct TrainingOptions: Sendable, Codable, Equatable {
    public enum OptimizerKind: String, Sendable, Codable, CaseIterable {
        case sgd, adam, adamw, rmsprop
    }

    public var epochs: Int = 1
    /// Stop after this many optimizer steps in total (nil: run all epochs).
    public var maxSteps: Int?
    /// The GLOBAL batch size (summed over ranks).
    public var batchSize: Int = 64
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Float = 0.001
    /// SGD's and RMSprop's momentum.
    public var momentum: Float = 0
    /// torch.optim's weight_decay; nil: the optimizer's torch default (0.01
    /// for AdamW, 0 for the others).
    public var weightDecay: Float?
    /// RMSprop's smoothing constant alpha.
    public var alpha: Float = 0.99
    /// Centered RMSprop (normalise by an estimate of the gradient's variance).
    public var centered = false
    /// The learning-rate schedule (none by default).
    public var schedule = ScheduleOptions()
    /// Clip the averaged gradient to this global 2-norm before each step
    /// (torch.nn.utils.clip_grad_norm_); nil: no clipping.
    public var clipGradientNorm: Double?
    /// Micro-batches per optimizer step on each rank (gradient accumulation):
    /// the same global batch, in K forward/backward passes of a K-th of it.
    public var accumulate = 1
    /// Hold out this fraction of the training set (chosen from the seed, the
    /// same at any world size) and evaluate on it after every epoch (0: none).
    public var validationFraction = 0.0
    /// Keep `best.h5` beside the rolling checkpoints: the epoch-end state
    /// with the best value of this metric so far.
    public var keepBest: MonitoredMetric?
    /// End the run when `keepBest`'s metric has not improved for this many epochs.
    public var earlyStopPatience: Int?
    /// Rank 0 writes TensorBoard scalar event files here.
    public var tensorboardDirectory: String?
    public var seed: UInt64 = 0
    public var shuffle: Bool = true
    /// JSON-lines file that epoch records are appended to.
    public var metricsPath: String?
    /// BLAS threads for this process.
    public var threads: Int = 1
    /// After every epoch, also evaluate the first this many training samples
    /// (0: never) and log `train_accuracy` (or `train_eval_loss`) beside the test figures.
    public var trainEvaluationSamples = 0
    /// Batch size for evaluation.
    public var evaluationBatchSize: Int = 1000
    /// Bitwise the same parameters, optimizer state, losses and evaluation
    /// figures at every supported world size (see `MicroBatchPlan`).
    public var deterministic = false
    /// Micro-batches per global batch in deterministic mode (nil: the
    /// checkpoint's when resuming, else the world size).
    public var microBatches: Int?
    /// Size of the gradient buckets whose allreduce overlaps backward.
    public var bucketMegabytes: Double = 1
    /// Shard the optimizer across ranks (ZeRO stage 1): each rank updates,
    /// and keeps optimizer state for, 1 / W of the parameters, and the
    /// parameters are allgathered after the update. Changes no result;
    /// checkpoints keep the full layout. No effect alone.
    public var shardOptimizer = true
    /// With the sharded optimizer, ranks on one machine exchange gradients
    /// and parameters through shared memory (`SharedMemoryReducer`) rather
    /// than MPI messages: the same bits, no copies. Off: the message path,
    /// kept to measure against.
    public var sharedMemory = true
    /// Batches the loader's background thread assembles ahead (0: assemble
    /// each batch on the training thread, no extra thread).
    public var prefetch = 2
    /// Whether the run writes checkpoints at all. Off, nothing is written
    /// or resumed and no directory is made or locked: for short runs whose
    /// saves would cost more than rerunning them (`--no-checkpoints`).
    public var savesCheckpoints = true
    /// Where checkpoints go (default: runs/<model name>).
    public var checkpointDirectory: String?
    /// Save every this many optimizer steps (0: only at epoch ends and at the end).
    public var checkpointEvery = 500
    /// Save at the end of every epoch, after its evaluation (off: only every
    /// `checkpointEvery` steps, where `maxSteps` ends the run, and once at
    /// the end of the run). A run of many short epochs spent most of its
    /// time in these saves.
    public var checkpointAtEpochEnd = true
    /// Checkpoints kept in the directory (older ones are deleted after a new one is complete).
    public var keep = 3
    /// Which checkpoint a run starts from.
    public var resume: ResumePolicy = .auto
    /// Let a run take over a checkpoint directory that holds checkpoints it
    /// does not continue, moving them into `replaced-<time>/` (otherwise refused).
    public var overwrite = false
    /// Hyper-parameters a resumed run may change (logged when it does).
    public var overrides: Set<OverridableSetting> = []
    /// Abort the job when a step makes no progress for this many seconds (0: never).
    public var stepTimeout: Double = 300
    /// After every step, compare a checksum of the parameters across ranks
    /// and stop if any rank differs (a check for tests and debugging).
    public var checkReplicas = false
    /// Each rank appends the data set indices of every sample it trains on
    /// to `<path>.rank<r>` as little-endian int32 (a check for tests: the
    /// sample order must not depend on the world size).
    public var sampleLogPath: String?
    /// Rank 0 writes the final parameters here as raw little-endian float32
    /// in state_dict order (numpy.fromfile reads it), to compare runs.
    public var saveParametersPath: String?

    public init() {}

    /// The largest batch (training or evaluation) the options accept: far
    /// above any that fits in memory, low enough that no size arithmetic overflows.
    public static let maximumBatch = 1 << 24
    /// The most BLAS threads the options accept (OpenBLAS's own limit is lower).
    public static let maximumThreads = 1024

    /// Runs `body` (which makes a `MicroBatchPlan`), naming `--accumulate`
    /// rather than `--micro-batches` in its error when `--accumulate` chose the count.
    static func accumulating(_ accumulate: Int, _ microBatches: Int?, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch TrainingError.invalidOption(.microBatches, let reason) where microBatches == nil && accumulate > 1 {
            throw TrainingError.invalidOption(.accumulate, "under --deterministic, --accumulate \(accumulate) asks for "
                                              + "\(accumulate) micro-batches per rank: \(reason)")
        }
    }

    /// The weight decay in effect: `weightDecay`, or the optimizer's torch default.
    public var resolvedWeightDecay: Float { weightDecay ?? (optimizer == .adamw ? 0.01 : 0) }

    /// Refuses `--save-parameters PATH` when PATH is an HDF5 file (a
    /// checkpoint, best.h5, a --data file): the raw float32 parameters
    /// would replace it. Checked before the run and again before the write,
    /// as the run itself may have made the file (best.h5, a checkpoint).
    public static func refuseHDF5(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return }
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { _ = close(descriptor) }
        var head = [UInt8](repeating: 0, count: 8)
        guard read(descriptor, &head, 8) == 8, head == [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] else { return }
        throw TrainingError.invalidOption(.saveParametersPath, "\(path) is an HDF5 file (a checkpoint or a data file?), which the "
                                          + "raw float32 parameters would replace; choose another path")
    }

    /// Checks the numbers; the error names the option (`OptionKey`) and the problem.
    public func validate() throws {
        if epochs < 1 { throw TrainingError.invalidOption(.epochs, "must be at least 1, got \(epochs)") }
        if let maxSteps, maxSteps < 1 { throw TrainingError.invalidOption(.maxSteps, "must be at least 1, got \(maxSteps)") }
        if batchSize < 1 || batchSize > Self.maximumBatch {
            throw TrainingError.invalidOption(.batchSize, "must be between 1 and \(Self.maximumBatch), got \(batchSize)")
        }
        if !(learningRate > 0) || !learningRate.isFinite {
            throw TrainingError.invalidOption(.learningRate, "must be a positive number, got \(learningRate)")
        }
        if !(momentum >= 0 && momentum < 1) { throw TrainingError.invalidOption(.momentum, "must be in [0, 1), got \(momentum)") }
        if (optimizer == .adam || optimizer == .adamw) && momentum != 0 {
            throw TrainingError.invalidOption(.momentum, "applies to --optimizer sgd and rmsprop only (Adam uses betas)")
        }
        if let weightDecay, !(weightDecay >= 0 && weightDecay.isFinite) {
            throw TrainingError.invalidOption(.weightDecay, "must be a finite number of 0 or more, got \(weightDecay)")
        }
        if !(alpha >= 0 && alpha <= 1) { throw TrainingError.invalidOption(.alpha, "must be in [0, 1], got \(alpha)") }
        if optimizer != .rmsprop && (alpha != 0.99 || centered) {
            throw TrainingError.invalidOption(centered ? .centered : .alpha, "applies to --optimizer rmsprop only")
        }
        try schedule.validate()
        if let clipGradientNorm, !(clipGradientNorm > 0 && clipGradientNorm.isFinite) {
            throw TrainingError.invalidOption(.clipGradientNorm, "must be a positive finite number, got \(clipGradientNorm)")
        }
        if accumulate < 1 { throw TrainingError.invalidOption(.accumulate, "must be at least 1, got \(accumulate)") }
        if !(validationFraction >= 0 && validationFraction < 1) {
            throw TrainingError.invalidOption(.validationFraction, "must be in [0, 1), got \(validationFraction)")
        }
        if let keepBest, keepBest.split == .validation && validationFraction == 0 {
            throw TrainingError.invalidOption(.keepBest, "\(keepBest) needs a validation set: add --val-fraction F (e.g. 0.1)")
        }
        if let earlyStopPatience {
            if earlyStopPatience < 1 { throw TrainingError.invalidOption(.earlyStopPatience, "must be at least 1 epoch, got \(earlyStopPatience)") }
            if keepBest == nil { throw TrainingError.invalidOption(.earlyStopPatience, "needs --keep-best METRIC: the metric it watches") }
        }
        if !(bucketMegabytes > 0 && bucketMegabytes <= 65_536) {
            throw TrainingError.invalidOption(.bucketMegabytes, "must be a positive number of MB up to 65536, got \(bucketMegabytes)")
        }
        if checkpointEvery < 0 { throw TrainingError.invalidOption(.checkpointEvery, "must be 0 or more, got \(checkpointEvery)") }
        if !savesCheckpoints {
            if keepBest != nil {
                throw TrainingError.invalidOption(.keepBest, "writes best.h5 beside the checkpoints: not with --no-checkpoints")
            }
            if case .path(let path) = resume {
                throw TrainingError.invalidOption(.resume, "\(path): a run with --no-checkpoints resumes nothing")
            }
        }
        if keep < 1 { throw TrainingError.invalidOption(.keep, "must be at least 1, got \(keep)") }
        if let saveParametersPath { try Self.refuseHDF5(saveParametersPath) }
        if !(stepTimeout == 0 || (stepTimeout >= 1 && stepTimeout <= 1e7)) {
            throw TrainingError.invalidOption(.stepTimeout, "must be 0 (never) or between 1 and 1e7 seconds, got \(stepTimeout)")
        }
        if prefetch < 0 || prefetch > 1024 { throw TrainingError.invalidOption(.prefetch, "must be between 0 and 1024, got \(prefetch)") }
        if trainEvaluationSamples < 0 { throw TrainingError.invalidOption(.trainEvaluationSamples, "must be 0 or more, got \(trainEvaluationSamples)") }
        if let microBatches, !deterministic {
            throw TrainingError.invalidOption(.microBatches, "applies to --deterministic only, got \(microBatches) without it")
        }
        if deterministic {
            if accumulate > 1 && microBatches != nil {
                throw TrainingError.invalidOption(.accumulate, "under --deterministic it sets the default --micro-batches "
                                                  + "(K x the world size); give --micro-batches or --accumulate, not both")
            }
            // The world size is checked when it is known (MicroBatchPlan in Trainer).
            try Self.accumulating(accumulate, microBatches) {
                _ = try MicroBatchPlan(batchSize: batchSize, microBatches: microBatches ?? accumulate, rank: 0, worldSize: 1)
            }
        } else if accumulate > batchSize {
            throw TrainingError.invalidOption(.accumulate, "\(accumulate) micro-batches cannot split a global batch of \(batchSize)")
        }
        if evaluationBatchSize < 1 || evaluationBatchSize > Self.maximumBatch {
            throw TrainingError.invalidOption(.evaluationBatchSize, "must be between 1 and \(Self.maximumBatch), got \(evaluationBatchSize)")
        }
        if threads < 1 || threads > Self.maximumThreads {
            throw TrainingError.invalidOption(.threads, "must be between 1 and \(Self.maximumThreads), got \(threads)")
        }
    }
}
