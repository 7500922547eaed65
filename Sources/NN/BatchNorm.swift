import TensorCore

/// Batch normalisation over the channel axis (PyTorch's nn.BatchNorm1d and
/// nn.BatchNorm2d; with a statistics reducer in the `ForwardContext`, nn.SyncBatchNorm).
///
/// State dict entries, in PyTorch's order and with its names: parameters
/// `weight` [C] (ones) and `bias` [C] (zeros) when `affine`; buffers
/// `running_mean` [C] (zeros), `running_var` [C] (ones) and
/// `num_batches_tracked` when `trackRunningStats`. PyTorch keeps
/// `num_batches_tracked` as an int64 of shape []; here it is a Float32 of
/// shape [] (exact up to 2^24 = 16,777,216 batches), so that every tensor of
/// the project stays Float32.
///
/// Training mode normalises with the batch mean and biased variance (over
/// every rank's batch when the forward context has a `statisticsReducer`),
/// then updates `running_mean = (1 - momentum) running_mean + momentum mean`,
/// the same for `running_var` with the unbiased variance, and adds 1 to
/// `num_batches_tracked`. With `momentum` nil the factor is
/// 1 / num_batches_tracked (a cumulative average), as in PyTorch.
/// Evaluation mode normalises with the running estimates (with the batch's
/// statistics when `trackRunningStats` is false).
public class BatchNorm: Module, ModeDependent {
    public let numFeatures: Int
    public let eps: Float
    public let momentum: Float?
    /// The scale gamma [C], nil unless `affine`.
    public let weight: Tensor?
    /// The shift beta [C], nil unless `affine`.
    public let bias: Tensor?
    /// The running mean [C] (buffer), nil unless `trackRunningStats`.
    public let runningMean: Tensor?
    /// The running unbiased variance [C] (buffer), nil unless `trackRunningStats`.
    public let runningVar: Tensor?
    /// The number of training batches seen, a Float32 of shape [] (buffer),
    /// nil unless `trackRunningStats`.
    public let numBatchesTracked: Tensor?
    public var isTraining = true

    /// The input ranks the subclass accepts and how to describe them.
    private let inputRanks: [Int]
    private let inputDescription: String

    init(numFeatures: Int, eps: Float, momentum: Float?, affine: Bool, trackRunningStats: Bool,
         inputRanks: [Int], inputDescription: String) {
        ensure(numFeatures > 0, "BatchNorm needs a positive number of features, got \(numFeatures)")
        ensure(eps > 0, "BatchNorm eps must be positive, got \(eps)")
        if let momentum { ensure(momentum >= 0 && momentum <= 1, "BatchNorm momentum must be in [0, 1], got \(momentum)") }
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        weight = affine ? .ones([numFeatures], requiresGrad: true) : nil
        bias = affine ? .zeros([numFeatures], requiresGrad: true) : nil
        runningMean = trackRunningStats ? .zeros([numFeatures]) : nil
        runningVar = trackRunningStats ? .ones([numFeatures]) : nil
        numBatchesTracked = trackRunningStats ? .zeros([]) : nil
        self.inputRanks = inputRanks
        self.inputDescription = inputDescription
    }

    public func forward(_ input: Tensor) -> Tensor {
        ensure(inputRanks.contains(input.rank) && input.shape[1] == numFeatures,
                     "\(type(of: self))(\(numFeatures)) needs input \(inputDescription) with C = \(numFeatures), got \(input.shape)")
        var factor = momentum ?? 0
        if isTraining, let numBatchesTracked {
            numBatchesTracked.data[0] += 1
            factor = momentum ?? 1 / numBatchesTracked.data[0]
        }
        let batchStatistics = isTraining || runningMean == nil
        return Tensor.batchNorm(input, runningMean: runningMean, runningVar: runningVar,
                                weight: weight, bias: bias, training: batchStatistics, momentum: factor, eps: eps,
                                statisticsReducer: batchStatistics ? ForwardContext.current?.statisticsReducer : nil)
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        [weight.map { ("weight", $0) }, bias.map { ("bias", $0) }].compactMap { $0 }
    }

    public var localBuffers: [(name: String, tensor: Tensor)] {
        [runningMean.map { ("running_mean", $0) }, runningVar.map { ("running_var", $0) },
         numBatchesTracked.map { ("num_batches_tracked", $0) }].compactMap { $0 }
    }

    public var configurationDescription: String {
        var text = "\(numFeatures)"
        if eps != 1e-5 { text += ", eps \(eps)" }
        if momentum != 0.1 { text += ", momentum \(momentum.map { "\($0)" } ?? "cumulative")" }
        if weight == nil { text += ", no affine" }
        if runningMean == nil { text += ", no running stats" }
        return text
    }
}

/// Batch normalisation of [N, C] or [N, C, L] inputs over N (and L), per
/// feature C: PyTorch's nn.BatchNorm1d (see `BatchNorm`).
public final class BatchNorm1d: BatchNorm {
    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true) {
        super.init(numFeatures: numFeatures, eps: eps, momentum: momentum, affine: affine,
                   trackRunningStats: trackRunningStats, inputRanks: [2, 3], inputDescription: "[N, C] or [N, C, L]")
    }
}

/// Batch normalisation of [N, C, H, W] inputs over N, H and W, per channel C:
/// PyTorch's nn.BatchNorm2d (see `BatchNorm`).
public final class BatchNorm2d: BatchNorm {
    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true) {
        super.init(numFeatures: numFeatures, eps: eps, momentum: momentum, affine: affine,
                   trackRunningStats: trackRunningStats, inputRanks: [4], inputDescription: "[N, C, H, W]")
    }
}
