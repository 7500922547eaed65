import Foundation

/// Everything an exact restart needs, as plain values: the model's
/// parameters and buffers, the optimizer's and the learning-rate
/// scheduler's state, where the run was, and what it was training.
/// `CheckpointFile` writes and reads it; see that file for the layout on disk.
///
/// Take it on the training thread (`FlatTensors(layout:copying:)` is one
/// copy per flat buffer) and hand it to a `CheckpointWriter`, which writes it
/// in the background.
public struct TrainingState: Sendable, Equatable {
    /// The model's parameters, by PyTorch state_dict name.
    public var parameters: FlatTensors
    /// The optimizer's kind, hyper-parameters, step and buffers (laid out
    /// like `parameters`).
    public var optimizer: OptimizerState
    /// The epoch in progress when the state was taken, as the trainer counts it.
    public var epoch: Int
    /// Optimizer steps already taken within `epoch`.
    public var iteration: Int
    /// Optimizer steps taken since the run began; names the file.
    public var globalStep: Int
    /// Training samples consumed since the run began, over all ranks.
    public var samplesSeen: Int
    /// The run's seed.
    public var seed: UInt64
    /// Number of ranks when the state was saved.
    public var worldSize: Int
    /// The global batch size (summed over ranks).
    public var batchSize: Int
    /// The model's name, e.g. "mlp".
    public var model: String
    /// JSON with every option needed to rebuild the model.
    public var modelConfig: String
    /// The data set's name, e.g. "fashion-mnist".
    public var dataset: String
    /// The random generator's state words (xoshiro256**: four).
    public var rngState: [UInt64]
    /// When the state was taken, ISO 8601 in UTC.
    public var created: String
    /// Anything else worth keeping, e.g. the trainer configuration as JSON;
    /// stored as string attributes of `/extra`.
    public var extra: [String: String]
    /// The model's non-trainable tensors by state_dict name (BatchNorm's
    /// running_mean, running_var, num_batches_tracked), stored in `/model`
    /// beside the parameters; `.empty` when the model has none.
    public var buffers: FlatTensors
    /// The learning-rate scheduler's state, or nil when the run has none.
    public var scheduler: SchedulerState?

    /// A state; `created` defaults to now.
    public init(parameters: FlatTensors, optimizer: OptimizerState, epoch: Int, iteration: Int, globalStep: Int,
                samplesSeen: Int, seed: UInt64, worldSize: Int, batchSize: Int, model: String, modelConfig: String,
                dataset: String, rngState: [UInt64], created: String = TrainingState.timestamp(),
                extra: [String: String] = [:], buffers: FlatTensors = .empty, scheduler: SchedulerState? = nil) {
        self.parameters = parameters
        self.optimizer = optimizer
        self.epoch = epoch
        self.iteration = iteration
        self.globalStep = globalStep
        self.samplesSeen = samplesSeen
        self.seed = seed
        self.worldSize = worldSize
        self.batchSize = batchSize
        self.model = model
        self.modelConfig = modelConfig
        self.dataset = dataset
        self.rngState = rngState
        self.created = created
        self.extra = extra
        self.buffers = buffers
        self.scheduler = scheduler
    }

    /// `date` as ISO 8601 in UTC with milliseconds, e.g. "2025-01-31T12:00:00.250Z".
    public static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
