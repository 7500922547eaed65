import Collective
import Foundation
import NN
import TensorCore

/// Sums a step's gradients across ranks into the run of the flat buffer that
/// each rank's sharded optimizer updates (ZeRO stage 1's reduce-scatter),
/// overlapping backward.
///
/// Every rank cuts the buffer alike into segments: each bucket's piece in
/// each rank's run. A segment goes to its run's owner as soon as its bucket
/// is complete. The receives of this rank's segments, one per other rank,
/// are posted when the step begins. `finish()` then adds, for each bucket,
/// the contributions of all ranks in rank order (`TreeSum`): the sums land
/// where the optimizer reads them, in an order fixed by the world size
/// alone. At two ranks it is a + b, the bits MPI_Allreduce gives, so
/// sharding changes no result. Elsewhere the gradient buffer keeps this
/// rank's own, unreduced values.
///
/// Point-to-point messages rather than OpenMPI's collectives because they
/// are twice as fast here: between two ranks of this machine, after a
/// barrier, the two halves of 407 KB took 0.04-0.06 ms as Isend/Irecv plus
/// the vectorised add, 0.07-0.12 ms as two in-place MPI_Reduce and 0.06-0.2
/// ms as MPI_Reduce_scatter (scratch benchmark, 2 x 300 each, two settings
/// of mpi_yield_when_idle).
package final class ShardedGradientReducer: GradientReduction {
    /// A piece of the buffer that one message carries.
    struct Segment {
        var bucket: Int
        var owner: Int
        var range: Range<Int>
    }

    package let communicator: Communicator
    package let parameters: ParameterSet
    package private(set) var buckets: GradientBuckets
    /// Every segment, in bucket order; a segment's index is its message tag.
    private let segments: [Segment]
    /// The segments of each bucket (indices into `segments`).
    private let segmentsOfBucket: [[Int]]
    /// This rank's run of the flat buffer, and this rank's piece of each bucket.
    private let run: Range<Int>
    private let ownPieces: [Range<Int>]
    /// Per other rank, its contributions to `run` (nil at this rank's index).
    private let incoming: [Storage?]
    private var sent: [Bool]
    private var sends: [CommunicationRequest] = []
    /// Per bucket: the receives of this rank's segments, one per other rank.
    private var receives: [[CommunicationRequest]]
    package private(set) var waitSeconds = 0.0
    package private(set) var transportBytes = 0
    package var peerReadBytes: Int { 0 }
    package var summary: String { "reduce-scatter by messages" }

    package init(communicator: Communicator, parameters: ParameterSet, shards: OptimizerShards, bucketBytes: Int) {
        self.communicator = communicator
        self.parameters = parameters
        let rank = communicator.rank
        let buckets = GradientBuckets(parameters: parameters, bucketBytes: bucketBytes)
        self.buckets = buckets
        let run = shards.runs[rank]
        self.run = run

        var segments: [Segment] = []
        var segmentsOfBucket: [[Int]] = []
        for (bucket, range) in buckets.ranges.enumerated() {
            var mine: [Int] = []
            for (owner, ownerRun) in shards.runs.enumerated() {
                let piece = ownerRun.clamped(to: range)
                guard !piece.isEmpty else { continue }
                segments.append(Segment(bucket: bucket, owner: owner, range: piece))
                mine.append(segments.count - 1)
            }
            segmentsOfBucket.append(mine)
        }
        self.segments = segments
        self.segmentsOfBucket = segmentsOfBucket
        ownPieces = buckets.ranges.map { run.clamped(to: $0) }
        incoming = (0..<communicator.size).map { $0 == rank ? nil : Storage(count: run.count, zeroed: false) }
        sent = Array(repeating: false, count: segments.count)
        receives = Array(repeating: [], count: buckets.count)
    }

    package var meanScale: Float { 1 / Float(communicator.size) }
    package var reducesOwnRunOnly: Bool { true }

    /// The micro-batches of a step add into one buffer: when the step
    /// starts, posts the receives of its contributions to this rank's run.
    package func beginMicroBatch(_ index: Int) throws {
        guard index == 0 else { return }
        buckets.reset()
        for i in sent.indices { sent[i] = false }
        for (index, segment) in segments.enumerated() where segment.owner == communicator.rank {
            for sender in 0..<communicator.size {
                guard let buffer = incoming[sender] else { continue }
                let start = buffer.base + (segment.range.lowerBound - run.lowerBound)
                transportBytes += segment.range.count * MemoryLayout<Float>.stride
                receives[segment.bucket].append(try communicator.startReceive(
                    UnsafeMutableBufferPointer(start: start, count: segment.range.count), from: sender, tag: index))
            }
        }
    }

    package func gradientReady(_ tensor: Tensor) throws {
        for bucket in buckets.markReady(tensor) {
            for index in segmentsOfBucket[bucket] { try send(index) }
        }
        poll()
    }

    /// Non-blocking messages advance only inside MPI calls: poll the ones in
    /// flight so they progress while backward computes.
    private func poll() {
        for request in sends { _ = request.test() }
        for bucket in receives { for request in bucket { _ = request.test() } }
    }

    /// Sends segment `index` to its owner, once per step (this rank's own
    /// segments stay here).
    private func send(_ index: Int) throws {
        let segment = segments[index]
        guard !sent[index], segment.owner != communicator.rank else { return }
        sent[index] = true
        transportBytes += segment.range.count * MemoryLayout<Float>.stride
        sends.append(try communicator.startSend(
            UnsafeBufferPointer(start: parameters.gradients.base + segment.range.lowerBound, count: segment.range.count),
            to: segment.owner, tag: index))
    }

    /// Sends what backward did not reach, then adds each bucket's
    /// contributions as they arrive.
    package func finish() throws {
        let begin = DispatchTime.now().uptimeNanoseconds
        for bucket in buckets.markAllReady() {
            for index in segmentsOfBucket[bucket] { try send(index) }
        }
        for bucket in 0..<buckets.count {
            for request in receives[bucket] { try request.wait() }
            let piece = ownPieces[bucket]
            guard !piece.isEmpty else { continue }
            let own = parameters.gradients.base + piece.lowerBound
            let contributions = incoming.map { buffer in
                UnsafePointer(buffer.map { $0.base + (piece.lowerBound - run.lowerBound) } ?? own)
            }
            TreeSum.sum(contributions, into: own, count: piece.count)
        }
        for request in sends { try request.wait() }
        waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
        sends = []
        for i in receives.indices { receives[i] = [] }
    }
}
