import TensorCore

/// One rank's batch of samples, ready for the model.
public struct Batch: Sendable {
    /// Features, row-major with `shape`: sample k starts at `k * sampleSize`.
    public let inputs: [Float]
    /// `[count] + sampleShape`, e.g. `[64, 1, 28, 28]`.
    public let shape: [Int]
    /// One label per sample (-1 where the data set has none).
    public let labels: [Int32]
    /// Float targets, row-major `[count] + targetShape`; empty when the data
    /// set has none (`Dataset.targetShape` is `[]`).
    public let targets: [Float]
    public let targetShape: [Int]
    /// The data set index of each sample.
    public let indices: [Int]
    public let epoch: Int
    /// The step within the epoch; with a `DistributedBatchSampler`, the global step.
    public let step: Int

    public init(inputs: [Float], shape: [Int], labels: [Int32], indices: [Int], epoch: Int, step: Int,
                targets: [Float] = [], targetShape: [Int] = []) {
        ensure(targetShape.isEmpty ? targets.isEmpty : targets.count == labels.count * targetShape.reduce(1, *),
                     "Batch of \(labels.count) samples needs \(labels.count) targets of shape \(targetShape), got \(targets.count) values")
        self.targets = targets
        self.targetShape = targetShape
        ensure(shape.first == labels.count && labels.count == indices.count,
                     "Batch of shape \(shape) needs \(shape.first ?? 0) labels and indices, got \(labels.count) and \(indices.count)")
        ensure(inputs.count == shape.reduce(1, *), "Batch of shape \(shape) needs \(shape.reduce(1, *)) inputs, got \(inputs.count)")
        self.inputs = inputs
        self.shape = shape
        self.labels = labels
        self.indices = indices
        self.epoch = epoch
        self.step = step
    }

    /// Number of samples; may be 0 on the last step of a rank whose share of
    /// a partial global batch is empty.
    public var count: Int { labels.count }
}
