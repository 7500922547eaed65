import TensorCore

/// Evaluation batches over this rank's contiguous shard of a data set, in
/// order, nothing dropped and nothing repeated.
///
/// PyTorch's `DistributedSampler` pads the data set to a multiple of the world
/// size by repeating samples, which skews accuracy; here the shards differ in
/// size by at most one and together are exactly `0..<count`, so summing
/// correct counts across ranks gives the exact accuracy.
public struct EvaluationSampler: BatchSampler {
    public let count: Int
    public let batchSize: Int
    public let rank: Int
    public let worldSize: Int
    /// The indices this rank evaluates.
    public let shard: Range<Int>

    /// - Throws: `DataError` (`invalidConfiguration`) for a non-positive batch
    ///   or world size, or a rank out of range.
    public init(count: Int, batchSize: Int, rank: Int = 0, worldSize: Int = 1) throws {
        guard count >= 0 else {
            throw DataError(.invalidConfiguration, "data set size must not be negative, got \(count)")
        }
        guard batchSize > 0 else {
            throw DataError(.invalidConfiguration, "batch size must be positive, got \(batchSize)")
        }
        guard worldSize > 0 else {
            throw DataError(.invalidConfiguration, "world size must be positive, got \(worldSize)")
        }
        guard (0..<worldSize).contains(rank) else {
            throw DataError(.invalidConfiguration, "rank \(rank) is outside 0..<\(worldSize) (world size \(worldSize))")
        }
        self.count = count
        self.batchSize = batchSize
        self.rank = rank
        self.worldSize = worldSize
        self.shard = Self.shard(count: count, rank: rank, worldSize: worldSize)
    }

    /// Rank `rank`'s contiguous share of `0..<count` among `worldSize` ranks:
    /// the first `count % worldSize` ranks get one extra item.
    public static func shard(count: Int, rank: Int, worldSize: Int) -> Range<Int> {
        ensure(count >= 0 && worldSize > 0 && (0..<worldSize).contains(rank),
                     "Need count >= 0 and 0 <= rank < worldSize, got count \(count), rank \(rank), world size \(worldSize)")
        let share = count / worldSize
        let remainder = count % worldSize
        let start = rank * share + min(rank, remainder)
        return start..<(start + share + (rank < remainder ? 1 : 0))
    }

    /// ceil(shard size / batchSize); may differ by one between ranks.
    public var stepsPerEpoch: Int { (shard.count + batchSize - 1) / batchSize }

    /// The natural order; evaluation never shuffles.
    public func order(epoch: Int) -> SampleOrder { SampleOrder(0..<count) }

    public func positions(step: Int) -> Range<Int> {
        ensure(step >= 0 && step < stepsPerEpoch, "Step \(step) is outside 0..<\(stepsPerEpoch)")
        let start = shard.lowerBound + step * batchSize
        return start..<min(start + batchSize, shard.upperBound)
    }
}
