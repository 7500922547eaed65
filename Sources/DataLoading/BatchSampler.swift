/// Decides which sample indices make up each of this rank's batches in an
/// epoch, PyTorch's `batch_sampler`.
///
/// A sampler describes an epoch as one global order of the data set plus, for
/// each step, the range of positions in that order that this rank takes. The
/// split lets `DataLoader` make an epoch's order (its keys) once instead of
/// once per batch.
public protocol BatchSampler: Sendable {
    /// Size of the data set sampled from; indices are in `0..<count`.
    var count: Int { get }
    /// How many batches this rank sees per epoch.
    var stepsPerEpoch: Int { get }
    /// The epoch's order of all `count` indices, identical on every rank.
    func order(epoch: Int) -> SampleOrder
    /// The positions in `order(epoch:)` that form this rank's batch at `step`.
    func positions(step: Int) -> Range<Int>
}

extension BatchSampler {
    /// This rank's sample indices for `step` of `epoch`. Computes the epoch's
    /// order each time; loops should call `order(epoch:)` once instead.
    public func indices(epoch: Int, step: Int) -> [Int] {
        Array(order(epoch: epoch)[positions(step: step)])
    }
}
