import TensorCore

/// Training batches for data parallelism whose content does not depend on how
/// many processes share the work.
///
/// Each epoch has ONE order of the data set, a permutation drawn from
/// `(seed, epoch)` alone and evaluated per position (`SampleOrder`: no
/// N-sized array on any rank). Global step `s` is the `globalBatchSize` positions
/// `[s*B, (s+1)*B)` of that order, and rank `r` of `W` takes its contiguous
/// `B/W` of them. So concatenating every rank's batch in rank order gives the
/// same global batch for any `W`: a run on 8 processes averages gradients
/// over exactly the samples a run on 1 process uses, and a checkpoint can
/// resume on a different number of processes.
///
/// Unlike PyTorch's `DistributedSampler` (which shuffles, then deals every
/// W-th index to each rank, so batches change with W), sharding happens per
/// global batch.
///
/// With `dropLast` false the last global batch is partial; it is split across
/// ranks as evenly as possible in contiguous pieces, so some ranks may get
/// fewer samples, or none (an empty batch). Every rank still has the same
/// `stepsPerEpoch`, keeping collective operations in lockstep; average
/// gradients weighted by each rank's sample count to match one process.
public struct DistributedBatchSampler: BatchSampler {
    public let count: Int
    /// B: samples per step summed over all ranks.
    public let globalBatchSize: Int
    public let rank: Int
    public let worldSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    public let dropLast: Bool
    /// How the epoch's shuffled order is drawn (a checkpoint's `sample_order`).
    public let scheme: SampleOrder.Scheme

    /// - Throws: `DataError` (`invalidConfiguration`) when `globalBatchSize`
    ///   is not a multiple of `worldSize`, or a value is out of range.
    public init(count: Int, globalBatchSize: Int, rank: Int = 0, worldSize: Int = 1,
                seed: UInt64 = 0, shuffle: Bool = true, dropLast: Bool = false,
                scheme: SampleOrder.Scheme = .keyedBijection) throws {
        guard count >= 0 else {
            throw DataError(.invalidConfiguration, "data set size must not be negative, got \(count)")
        }
        guard globalBatchSize > 0 else {
            throw DataError(.invalidConfiguration, "global batch size must be positive, got \(globalBatchSize)")
        }
        guard worldSize > 0 else {
            throw DataError(.invalidConfiguration, "world size must be positive, got \(worldSize)")
        }
        guard (0..<worldSize).contains(rank) else {
            throw DataError(.invalidConfiguration, "rank \(rank) is outside 0..<\(worldSize) (world size \(worldSize))")
        }
        guard globalBatchSize % worldSize == 0 else {
            let lower = globalBatchSize / worldSize * worldSize
            let upper = lower + worldSize
            let suggestion = lower > 0 ? "\(lower) or \(upper)" : "\(upper)"
            throw DataError(.invalidConfiguration,
                            "global batch size \(globalBatchSize) is not divisible by world size \(worldSize); "
                                + "every rank needs an equal share of each batch (try \(suggestion))")
        }
        self.count = count
        self.globalBatchSize = globalBatchSize
        self.rank = rank
        self.worldSize = worldSize
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.scheme = scheme
    }

    /// B/W: samples per rank in every full step.
    public var localBatchSize: Int { globalBatchSize / worldSize }

    /// floor(count / B) with `dropLast`, else ceil(count / B); the same on every rank.
    public var stepsPerEpoch: Int {
        dropLast ? count / globalBatchSize : (count + globalBatchSize - 1) / globalBatchSize
    }

    /// The epoch's order: a permutation of `0..<count` drawn by `scheme`
    /// from `RandomGenerator(seed: seed, stream: epoch + 1)` when
    /// shuffling, else `0..<count` in order. Depends on `seed` and `epoch`
    /// only, never on rank or world size.
    public func order(epoch: Int) -> SampleOrder {
        ensure(epoch >= 0, "Epoch must not be negative, got \(epoch)")
        guard shuffle else { return SampleOrder(0..<count) }
        var generator = RandomGenerator(seed: seed, stream: UInt64(epoch) + 1)
        return SampleOrder(shuffling: count, by: scheme, using: &generator)
    }

    /// The positions in the epoch's order that make up global step `step`,
    /// all ranks together.
    public func globalPositions(step: Int) -> Range<Int> {
        ensure(step >= 0 && step < stepsPerEpoch, "Step \(step) is outside 0..<\(stepsPerEpoch)")
        let start = step * globalBatchSize
        return start..<min(start + globalBatchSize, count)
    }

    /// This rank's contiguous slice of global step `step`: `B/W` positions,
    /// or its even share of a partial last batch (possibly none).
    public func positions(step: Int) -> Range<Int> {
        let global = globalPositions(step: step)
        // The same even, contiguous split that evaluation shards use; for a
        // full batch every rank gets exactly B/W.
        let piece = EvaluationSampler.shard(count: global.count, rank: rank, worldSize: worldSize)
        return (global.lowerBound + piece.lowerBound)..<(global.lowerBound + piece.upperBound)
    }
}
