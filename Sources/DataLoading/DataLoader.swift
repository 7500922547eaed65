import TensorCore

/// Turns a data set and a batch sampler into batches, PyTorch's `DataLoader`.
///
/// Batches are assembled on a background thread, `prefetch` ahead, so the next
/// batch is ready when the training step finishes (see `batches(epoch:startingAt:)`).
/// Assembly is one allocation for the inputs and a tight per-sample copy
/// through `Dataset.copySample`.
///
/// For training use a `DistributedBatchSampler`; for evaluation an
/// `EvaluationSampler` (this rank's contiguous shard, in order, nothing dropped).
public struct DataLoader: Sendable {
    public let dataset: any Dataset
    public let sampler: any BatchSampler
    /// How many batches the background thread may assemble ahead of the
    /// consumer; 0 assembles each batch on the calling thread when asked for.
    public let prefetch: Int
    /// The data set's sample shape, cached: it is an array, and reading it
    /// through the protocol for every batch would allocate.
    public let sampleShape: [Int]
    /// The data set's target shape, cached likewise.
    public let targetShape: [Int]
    private let sampleSize: Int

    public init(dataset: any Dataset, sampler: any BatchSampler, prefetch: Int = 2) {
        ensure(prefetch >= 0, "prefetch must not be negative, got \(prefetch)")
        ensure(sampler.count == dataset.count,
                     "Sampler is for \(sampler.count) samples but the data set has \(dataset.count)")
        self.dataset = dataset
        self.sampler = sampler
        self.prefetch = prefetch
        self.sampleShape = dataset.sampleShape
        self.targetShape = dataset.targetShape
        self.sampleSize = dataset.sampleShape.reduce(1, *)
    }

    /// A loader over this rank's contiguous evaluation shard of `dataset`, in
    /// order, in batches of `batchSize` (the last may be smaller).
    public static func evaluation(dataset: any Dataset, batchSize: Int, rank: Int = 0, worldSize: Int = 1,
                                  prefetch: Int = 2) throws -> DataLoader {
        let sampler = try EvaluationSampler(count: dataset.count, batchSize: batchSize, rank: rank, worldSize: worldSize)
        return DataLoader(dataset: dataset, sampler: sampler, prefetch: prefetch)
    }

    /// Batches this rank sees per epoch.
    public var stepsPerEpoch: Int { sampler.stepsPerEpoch }

    /// The batches of `epoch` from step `step` on (to resume mid-epoch from a
    /// checkpoint), assembled `prefetch` ahead on a background thread.
    ///
    /// Each iteration starts its own producer thread. Dropping the iterator
    /// before the end (a `break` out of a `for` loop) stops that thread and
    /// waits for it to exit, which takes at most one batch's assembly.
    public func batches(epoch: Int, startingAt step: Int = 0) -> Batches {
        ensure(epoch >= 0, "Epoch must not be negative, got \(epoch)")
        ensure(step >= 0 && step <= stepsPerEpoch, "Starting step \(step) is outside 0...\(stepsPerEpoch)")
        return Batches(loader: self, epoch: epoch, firstStep: step)
    }

    /// Batch `step` of `epoch`, assembled on the calling thread. Computes the
    /// epoch's order each call; meant for tests and one-off use.
    public func batch(epoch: Int, step: Int) -> Batch {
        makeBatch(epoch: epoch, step: step, order: sampler.order(epoch: epoch))
    }

    /// Gathers the samples at `order[sampler.positions(step:)]` into one batch.
    func makeBatch(epoch: Int, step: Int, order: SampleOrder) -> Batch {
        let indices = Array(order[sampler.positions(step: step)])
        let count = indices.count
        let sampleSize = sampleSize
        let dataset = dataset
        var labels = [Int32](repeating: -1, count: count)
        // Capacity at least 1 so there is always a pointer, even for an empty
        // batch or a data set with no features.
        let inputs = [Float](unsafeUninitializedCapacity: max(count * sampleSize, 1)) { buffer, initialized in
            let base = buffer.baseAddress!
            labels.withUnsafeMutableBufferPointer { labels in
                for k in 0..<count {
                    labels[k] = dataset.copySample(at: indices[k], into: base + k * sampleSize)
                }
            }
            initialized = count * sampleSize
        }
        let targetShape = targetShape, targetSize = targetShape.reduce(1, *)
        let targets = targetShape.isEmpty ? [] : [Float](unsafeUninitializedCapacity: max(count * targetSize, 1)) { buffer, initialized in
            for k in 0..<count { dataset.copyTarget(at: indices[k], into: buffer.baseAddress! + k * targetSize) }
            initialized = count * targetSize
        }
        return Batch(inputs: inputs, shape: [count] + sampleShape, labels: labels, indices: indices,
                     epoch: epoch, step: step, targets: targets, targetShape: targetShape)
    }
}
