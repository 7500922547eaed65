import Synchronization
import TensorCore

/// What a forward pass needs to know about the micro-batch it computes, set by
/// the trainer around each forward pass (`context.run { model(x) }`).
///
/// - `seed`, `epoch` and `sampleIndices` key the dropout masks: row r of the
///   batch is global sample `sampleIndices[r]`, and its mask in the k-th
///   dropout call of the pass is a pure function of (seed, epoch, sample, k)
///   (see `Dropout`). The same sample then gets the same mask on whichever
///   rank, in whichever micro-batch and after any resume.
/// - `statisticsReducer`, when set, sums BatchNorm's per-channel statistics
///   across the ranks of a data-parallel job (SyncBatchNorm): NN cannot
///   import MPI, so the trainer passes an allreduce in. Every rank must then
///   run the same layers in the same order, and backward calls the reducer
///   again (it is kept in the graph), so it must stay usable until backward
///   has finished.
///
/// Use one context per forward pass: it counts the dropout calls of the pass.
/// Without a context (a model called directly), Dropout uses seed 0, epoch 0
/// and sample indices 0..<rows, and each call takes the next number of a
/// process-wide counter as its layer index; BatchNorm uses local statistics.
///
/// `@unchecked Sendable` because a task-local value must be Sendable: a
/// context is bound for one synchronous forward pass on one thread, and only
/// that pass touches its counter.
public final class ForwardContext: @unchecked Sendable {
    /// The context of the forward pass running on this task or thread.
    @TaskLocal public static var current: ForwardContext?

    /// The run's seed (the trainer's `--seed`).
    public let seed: UInt64
    /// The epoch the micro-batch belongs to.
    public let epoch: Int
    /// The global index in the data set of each row of the batch.
    public let sampleIndices: [Int]
    /// Sums BatchNorm statistics across ranks; nil for per-process statistics.
    public let statisticsReducer: StatisticsReducer?

    /// Dropout calls so far in this pass: the next one's layer index.
    private var randomLayers = 0

    public init(seed: UInt64, epoch: Int, sampleIndices: [Int], statisticsReducer: StatisticsReducer? = nil) {
        ensure(epoch >= 0, "ForwardContext epoch must be non-negative, got \(epoch)")
        ensure(sampleIndices.allSatisfy { $0 >= 0 }, "ForwardContext sample indices must be non-negative")
        self.seed = seed
        self.epoch = epoch
        self.sampleIndices = sampleIndices
        self.statisticsReducer = statisticsReducer
    }

    /// Runs `body` (one forward pass) with this context as `current`.
    public func run<T>(_ body: () throws -> T) rethrows -> T {
        try ForwardContext.$current.withValue(self, operation: body)
    }

    /// The layer index for the next random layer of this pass (0, 1, ...).
    func nextRandomLayer() -> Int {
        defer { randomLayers += 1 }
        return randomLayers
    }

    /// Layer indices for random layers called without a context.
    private static let contextFreeCalls = Atomic<Int>(0)

    /// The next layer index for a random layer called without a context.
    static func nextContextFreeLayer() -> Int {
        contextFreeCalls.wrappingAdd(1, ordering: .relaxed).oldValue
    }
}
