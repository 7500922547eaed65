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
/// MPI_Allreduce promises no summation order, so the sums may differ in the
/// last bits from one world size to another; `TreeGradientReducer` is the
/// order-fixed alternative (`--deterministic`).
final class GradientSynchronizer {
    let communicator: Communicator
    let parameters: ParameterSet
    private(set) var buckets: GradientBuckets
    private var requests: [CommunicationRequest?]
    /// Seconds spent in `finish()` waiting for buckets, summed over steps.
    private(set) var waitSeconds = 0.0

    init(communicator: Communicator, parameters: ParameterSet, optimizer: any Optimizer, bucketBytes: Int) {
        self.communicator = communicator
        self.parameters = parameters
        buckets = GradientBuckets(parameters: parameters, bucketBytes: bucketBytes)
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
        requests[bucket] = try communicator.startAllreduceSum(buffer)
    }

    /// Starts the buckets not yet started and waits for all.
    func finish() throws {
        for bucket in buckets.markAllReady() { try start(bucket) }
        let begin = DispatchTime.now().uptimeNanoseconds
        for request in requests { try request?.wait() }
        waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
        for i in requests.indices { requests[i] = nil }
    }
}
