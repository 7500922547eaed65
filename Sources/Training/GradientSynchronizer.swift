import Collective
import Foundation
import NN
import Optim
import TensorCore

/// Averages gradients across the ranks of a data-parallel job, overlapping
/// communication with backward.
///
/// Backward reports each parameter whose gradient is final; when every
/// parameter of a bucket is final, that bucket's `MPI_Iallreduce` starts while
/// backward goes on with earlier layers. `finish()` starts what is left and
/// waits for all buckets. The buffer then holds sums over ranks; this class
/// owns the mean: it sets the optimizer's `gradientScale` to 1 / size, which
/// the optimizer applies as it reads the gradients.
///
/// With `shards` (the sharded optimizer, ZeRO stage 1) each bucket is
/// reduce-scattered instead: a rank receives the sums of its own run of the
/// buffer only, which is all its optimizer reads, for half the traffic of an
/// allreduce; the parameters are allgathered after the update. Elsewhere the
/// gradient buffer then holds this rank's own, unreduced values.
///
/// MPI_Allreduce promises no summation order, so the sums may differ in the
/// last bits from one world size to another; `TreeGradientReducer` is the
/// order-fixed alternative (`--deterministic`). At two ranks every order
/// gives a + b, so the reduce-scatter's sums are the allreduce's bits.
final class GradientSynchronizer {
    let communicator: Communicator
    let parameters: ParameterSet
    private(set) var buckets: GradientBuckets
    /// Reduce-scatter to these runs (nil: allreduce everything).
    let shards: OptimizerShards?
    /// Per bucket, the reduce-scatter's count for each rank.
    private let counts: [[Int]]
    private var requests: [CommunicationRequest?]
    /// Seconds spent in `finish()` waiting for buckets, summed over steps.
    private(set) var waitSeconds = 0.0

    init(communicator: Communicator, parameters: ParameterSet, optimizer: any Optimizer, bucketBytes: Int,
         shards: OptimizerShards? = nil) {
        self.communicator = communicator
        self.parameters = parameters
        self.shards = shards
        let buckets = GradientBuckets(parameters: parameters, bucketBytes: bucketBytes)
        self.buckets = buckets
        counts = shards.map { shards in buckets.ranges.map { shards.counts(in: $0) } } ?? []
        requests = Array(repeating: nil, count: buckets.count)
        optimizer.gradientScale = 1 / Float(communicator.size)
    }

    /// Resets the per-step state; call before backward.
    func beginStep() {
        buckets.reset()
    }

    /// Backward's report that `tensor`'s gradient is final.
    func gradientReady(_ tensor: Tensor) throws {
        for bucket in buckets.markReady(tensor) { try start(bucket) }
        // Non-blocking collectives advance only inside MPI calls: poll the
        // ones in flight so they progress while backward computes.
        for request in requests.prefix(buckets.startable) { _ = request?.test() }
    }

    private func start(_ bucket: Int) throws {
        let range = buckets.ranges[bucket]
        let buffer = UnsafeMutableBufferPointer(start: parameters.gradients.base + range.lowerBound, count: range.count)
        requests[bucket] = shards == nil
            ? try communicator.startAllreduceSum(buffer)
            : try communicator.startReduceScatterSum(buffer, counts: counts[bucket])
    }

    /// Starts the buckets not yet started and waits for all.
    func finish() throws {
        for bucket in buckets.markAllReady() { try start(bucket) }
        let begin = DispatchTime.now().uptimeNanoseconds
        for bucket in requests.indices {
            try requests[bucket]?.wait()
            if let shards { placeOwnSums(of: bucket, run: shards.runs[communicator.rank]) }
        }
        waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
        for i in requests.indices { requests[i] = nil }
    }

    /// An in-place reduce-scatter leaves this rank's sums at the start of the
    /// bucket; they belong where this rank's run meets the bucket.
    private func placeOwnSums(of bucket: Int, run: Range<Int>) {
        let range = buckets.ranges[bucket], own = run.clamped(to: range)
        guard !own.isEmpty, own.lowerBound != range.lowerBound else { return }
        let base = parameters.gradients.base
        memmove(base + own.lowerBound, base + range.lowerBound, own.count * MemoryLayout<Float>.stride)
    }
}
