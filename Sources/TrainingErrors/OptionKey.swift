/// Which option a `TrainingError.invalidOption` is about: one case per
/// option the library checks, so that the library names an option without
/// knowing the command line. Each key knows the two names a user may have
/// typed: its Swift name (`swiftName`, the raw value: the field of
/// `TrainingOptions`, `TrainingConfiguration` or `ModelSpec`, or the
/// argument of the call, that was set) and the `trainer` flag that sets it
/// (`flag`).
public enum OptionKey: String, Sendable, CaseIterable {
    // MARK: TrainingOptions

    case epochs
    case maxSteps
    case batchSize
    case learningRate
    case momentum
    case weightDecay
    case alpha
    case centered
    case clipGradientNorm
    case accumulate
    case validationFraction
    case keepBest
    case earlyStopPatience
    case bucketMegabytes
    case checkpointDirectory
    case checkpointEvery
    case keep
    case resume
    case stepTimeout
    case prefetch
    case threads
    case trainEvaluationSamples
    case evaluationBatchSize
    case deterministic
    case microBatches
    case metricsPath
    case sampleLogPath
    case saveParametersPath

    // MARK: TrainingOptions.schedule (ScheduleOptions)

    case schedule = "schedule.kind"
    case scheduleUnit = "schedule.unit"
    case scheduleStepSize = "schedule.stepSize"
    case scheduleGamma = "schedule.gamma"
    case scheduleMilestones = "schedule.milestones"
    case scheduleTMax = "schedule.tMax"
    case scheduleEtaMin = "schedule.etaMin"
    case scheduleWarmup = "schedule.warmup"
    case scheduleWarmupStartFactor = "schedule.warmupStartFactor"

    // MARK: TrainingConfiguration.model (ModelSpec)

    case model = "model.name"
    case hidden = "model.hidden"
    case latent = "model.latent"
    case layers = "model.layers"
    case depth = "model.depth"
    case task = "model.task"
    case loss = "model.loss"
    case dropout = "model.dropout"
    /// Set from the data: a `--data` file's labels or targets.
    case classes = "model.classes"
    /// Set from the data: the data set's sample shape.
    case inputShape = "model.inputShape"

    // MARK: TrainingConfiguration and the other calls

    /// The catalog data set (`TrainingConfiguration.dataset`, `CheckpointEvaluation.run(dataset:)`).
    case dataset
    /// The user's HDF5 files (`HDF5DataFile.load`).
    case dataFile = "HDF5DataFile.load"
    /// The checkpoint `CheckpointEvaluation.run(checkpoint:)` evaluates.
    case checkpoint
    /// A benchmark workload (`Benchmark.workload(named:)`).
    case workload = "Benchmark.workload(named:)"
    /// The chunk size of `Module.evaluate(on:loss:metrics:batchSize:world:)`.
    case evaluateBatchSize = "evaluate(batchSize:)"
    /// The optimizer a `Trainer` was given (`Trainer.init(optimizer:)`).
    case optimizerFactory = "optimizer"
    /// A campaign's report directory (`ExperimentOptions.outputDirectory`).
    case outputDirectory

    /// The name a Swift program set: the options field (`batchSize`,
    /// `model.hidden`) or the call's argument.
    public var swiftName: String { rawValue }

    /// The `trainer` flag that sets the option (`--batch-size`). An option
    /// that only the Swift API sets (`evaluationBatchSize`) has no flag: its
    /// Swift name stands in, so the message still names what was set.
    public var flag: String {
        switch self {
        case .epochs: "--epochs"
        case .maxSteps: "--max-steps"
        case .batchSize: "--batch-size"
        case .learningRate: "--lr"
        case .momentum: "--momentum"
        case .weightDecay: "--weight-decay"
        case .alpha: "--alpha"
        case .centered: "--centered"
        case .clipGradientNorm: "--clip-grad-norm"
        case .accumulate: "--accumulate"
        case .validationFraction: "--val-fraction"
        case .keepBest: "--keep-best"
        case .earlyStopPatience: "--early-stop"
        case .bucketMegabytes: "--bucket-mb"
        case .checkpointDirectory: "--checkpoint-dir"
        case .checkpointEvery: "--checkpoint-every"
        case .keep: "--keep"
        case .resume: "--resume"
        case .stepTimeout: "--step-timeout"
        case .prefetch: "--prefetch"
        case .threads: "--threads"
        case .deterministic: "--deterministic"
        case .microBatches: "--micro-batches"
        case .metricsPath: "--metrics"
        case .sampleLogPath: "--record-samples"
        case .saveParametersPath: "--save-parameters"
        case .schedule: "--lr-schedule"
        case .scheduleUnit: "--lr-schedule-unit"
        case .scheduleStepSize: "--lr-step-size"
        case .scheduleGamma: "--lr-gamma"
        case .scheduleMilestones: "--lr-milestones"
        case .scheduleTMax: "--lr-t-max"
        case .scheduleEtaMin: "--lr-eta-min"
        case .scheduleWarmup: "--lr-warmup"
        case .model: "--model"
        case .hidden: "--hidden"
        case .latent: "--latent"
        case .layers: "--layers"
        case .depth: "--depth"
        case .task: "--task"
        case .loss: "--loss"
        case .dropout: "--dropout"
        case .classes: "--data"
        case .inputShape, .dataset: "--dataset"
        case .dataFile: "--data"
        case .checkpoint: "--checkpoint"
        case .workload: "--workload"
        case .outputDirectory: "--out"
        case .trainEvaluationSamples, .evaluationBatchSize, .scheduleWarmupStartFactor, .evaluateBatchSize, .optimizerFactory: swiftName
        }
    }
}
