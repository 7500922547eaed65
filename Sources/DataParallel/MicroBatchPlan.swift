import TensorCore
import TrainingErrors

/// How `--deterministic` cuts each global batch so that its arithmetic does
/// not depend on how many ranks share it.
///
/// The global batch of B samples is M micro-batches of B / M samples, in
/// sample order; micro-batch j is global positions [j B/M, (j+1) B/M). Each
/// micro-batch's forward and backward run alone, so every sgemm, convolution
/// and reduction sees the same shapes and operands whichever rank runs it,
/// and its gradient is the same bits everywhere. The M gradients are then
/// added in one fixed binary tree (micro-batches 2i and 2i+1 first, and so
/// on up). Rank r of W holds micro-batches [r M/W, (r+1) M/W), an aligned
/// subtree: it adds that part locally and the rest of the tree is added
/// across ranks by recursive doubling (`TreeGradientReducer`). So the sum,
/// and everything computed from it, is bitwise the same at every supported W.
///
/// Supported world sizes are the powers of two that divide M, and M must be
/// a power of two that divides B. M is fixed when a run starts and kept in
/// its checkpoints: by default it is the starting world size (so the mode
/// costs nothing beyond the ordered exchange there, and the run can resume
/// on any smaller power of two); `--micro-batches 8` lets a run started on
/// one process resume on up to 8, at the price of running 8 smaller
/// forward and backward passes per step on one process.
public struct MicroBatchPlan: Sendable, Equatable {
    /// M: micro-batches per global batch, the same at every world size.
    public let microBatches: Int
    /// B / M samples in each micro-batch.
    public let microBatchSize: Int
    /// M / W micro-batches on each rank.
    public let localMicroBatches: Int
    /// The index of this rank's first micro-batch.
    public let firstMicroBatch: Int

    /// - Throws: `TrainingError.invalidOption` naming `--micro-batches`,
    ///   `--batch-size` or the world size when they do not fit together.
    public init(batchSize: Int, microBatches m: Int, rank: Int, worldSize: Int) throws {
        guard worldSize & (worldSize - 1) == 0 else {
            throw TrainingError.invalidOption(.deterministic, "world size \(worldSize) is not supported: the deterministic mode "
                                              + "adds the ranks' partial sums in a binary tree and needs a power of two (1, 2, 4, 8, ...)")
        }
        guard m >= 1 && m <= TreeSum.maximumLeaves && m & (m - 1) == 0 else {
            throw TrainingError.invalidOption(.microBatches, "must be a power of two from 1 to \(TreeSum.maximumLeaves), got \(m)")
        }
        guard batchSize % m == 0 else {
            throw TrainingError.invalidOption(.batchSize, "\(batchSize) is not a multiple of --micro-batches \(m); "
                                              + "--deterministic cuts every global batch into \(m) equal micro-batches")
        }
        guard m % worldSize == 0 else {
            let supported = (0...m.trailingZeroBitCount).map { String(1 << $0) }.joined(separator: ", ")
            throw TrainingError.invalidOption(.microBatches, "world size \(worldSize) does not divide \(m) micro-batches per "
                                              + "global batch: with \(m) the deterministic mode runs at world sizes \(supported); "
                                              + "a run that should resume at up to \(worldSize) ranks must start with --micro-batches \(worldSize) or more")
        }
        self.microBatches = m
        microBatchSize = batchSize / m
        localMicroBatches = m / worldSize
        firstMicroBatch = rank * (m / worldSize)
    }
}
