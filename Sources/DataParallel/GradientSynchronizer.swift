import Collective
import Foundation
import NN
import TensorCore

/// Averages gradients across the ranks of a data-parallel job, overlapping
/// communication with backward.
///
/// Backward reports each parameter whose gradient is final; when every
/// parameter of a bucket is final, that bucket's `MPI_Iallreduce` starts while
/// backward goes on with earlier layers. `finish()` reduces what is left and
/// waits for all buckets. The buffer then holds sums over ranks; `meanScale`,
/// 1 / size, makes them the mean, and the optimizer applies it as it reads
/// the gradients.
///
/// MPI_Allreduce promises no summation order, so the sums may differ in the
/// last bits from one world size to another; `TreeGradientReducer` is the
/// order-fixed alternative (`--deterministic`).
package final class GradientSynchronizer: GradientReduction {
    package let communicator: Communicator
    package let parameters: ParameterSet
    package private(set) var buckets: GradientBuckets
    private var requests: [CommunicationRequest?]
    package private(set) var waitSeconds = 0.0
    /// In place: each allreduce reads a bucket from this rank and writes its sum back.
    package private(set) var transportBytes = 0
    package var peerReadBytes: Int { 0 }
    package var summary: String { "allreduce" }

    package init(communicator: Communicator, parameters: ParameterSet, bucketBytes: Int) {
        self.communicator = communicator
        self.parameters = parameters
        buckets = GradientBuckets(parameters: parameters, bucketBytes: bucketBytes)
        requests = Array(repeating: nil, count: buckets.count)
    }

    package var meanScale: Float { 1 / Float(communicator.size) }
    package var reducesOwnRunOnly: Bool { false }

    /// The micro-batches of a step add into one buffer: the buckets restart
    /// with the step.
    package func beginMicroBatch(_ index: Int) {
        if index == 0 { buckets.reset() }
    }

    package func gradientReady(_ tensor: Tensor) throws {
        for bucket in buckets.markReady(tensor) {
            requests[bucket] = try communicator.startAllreduceSum(buffer(bucket))
            transportBytes += 2 * buffer(bucket).count * MemoryLayout<Float>.stride
        }
        // Non-blocking collectives advance only inside MPI calls: poll the
        // ones in flight so they progress while backward computes.
        for request in requests.prefix(buckets.startable) { _ = request?.test() }
    }

    private func buffer(_ bucket: Int) -> UnsafeMutableBufferPointer<Float> {
        let range = buckets.ranges[bucket]
        return UnsafeMutableBufferPointer(start: parameters.gradients.base + range.lowerBound, count: range.count)
    }

    /// Reduces the buckets backward did not start, blocking, and waits for
    /// the ones in flight.
    ///
    /// Blocking because nothing is left to overlap them with, and OpenMPI's
    /// blocking allreduce is the faster one: between two ranks of this
    /// machine, 407 KB took 0.09 ms as MPI_Allreduce and 0.14 ms as
    /// MPI_Iallreduce plus MPI_Wait (3 x 300 back to back, scratch benchmark).
    package func finish() throws {
        let begin = DispatchTime.now().uptimeNanoseconds
        for bucket in buckets.markAllReady() {
            try communicator.allreduceSum(buffer(bucket))
            transportBytes += 2 * buffer(bucket).count * MemoryLayout<Float>.stride
        }
        for request in requests { try request?.wait() }
        waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
        for i in requests.indices { requests[i] = nil }
    }
}
