import Collective
import Foundation
import NN
import Optim
import TensorCore

/// Sums a step's gradients across ranks into the run of the flat buffer that
/// each rank's sharded optimizer updates (ZeRO stage 1's reduce-scatter),
/// overlapping backward.
///
/// When a bucket's gradients are final, this rank sends every other rank
/// the piece of the bucket in that rank's run; the pieces of its own run
/// arrive into one buffer per sender (receives posted when the step
/// begins). `finish()` then adds, for each bucket, the contributions of
/// all ranks in rank order (`TreeSum`): the sums land where the optimizer
/// reads them, in an order fixed by the world size alone. At two ranks it
/// is a + b, the bits MPI_Allreduce gives, so sharding changes no result.
/// Elsewhere the gradient buffer keeps this rank's own, unreduced values.
///
/// Point-to-point messages rather than OpenMPI's collectives because they
/// are twice as fast here: between two ranks of this machine, after a
/// barrier, the two halves of 407 KB took 0.04-0.06 ms as Isend/Irecv plus
/// the vectorised add, 0.07-0.12 ms as two in-place MPI_Reduce and 0.06-0.2
/// ms as MPI_Reduce_scatter (scratch benchmark, 2 x 300 each, two settings
/// of mpi_yield_when_idle).
final class ShardedGradientReducer: GradientReduction {
    let communicator: Communicator
    let parameters: ParameterSet
    let shards: OptimizerShards
    private(set) var buckets: GradientBuckets
    /// Per bucket, where it meets each rank's run: (owner, elements).
    private let pieces: [[(owner: Int, range: Range<Int>)]]
    /// This rank's run of the flat buffer.
    private let run: Range<Int>
    /// Per other rank, its contributions to `run` (nil at this rank's index).
    private let incoming: [Storage?]
    /// Per bucket: the sends in flight.
    private var sends: [[CommunicationRequest]]
    /// Per bucket: the receives of this rank's piece, one per other rank.
    private var receives: [[CommunicationRequest]]
    private(set) var waitSeconds = 0.0

    init(communicator: Communicator, parameters: ParameterSet, optimizer: any Optimizer, shards: OptimizerShards,
         bucketBytes: Int) {
        self.communicator = communicator
        self.parameters = parameters
        self.shards = shards
        let buckets = GradientBuckets(parameters: parameters, bucketBytes: bucketBytes)
        self.buckets = buckets
        pieces = buckets.ranges.map { range in
            shards.runs.enumerated().map { ($0.offset, $0.element.clamped(to: range)) }.filter { !$0.1.isEmpty }
        }
        let run = shards.runs[communicator.rank]
        self.run = run
        incoming = (0..<communicator.size).map { $0 == communicator.rank ? nil : Storage(count: run.count, zeroed: false) }
        sends = Array(repeating: [], count: buckets.count)
        receives = Array(repeating: [], count: buckets.count)
        optimizer.gradientScale = 1 / Float(communicator.size)
    }

    /// This rank's piece of `bucket` (empty if the bucket misses its run).
    private func ownPiece(_ bucket: Int) -> Range<Int> {
        pieces[bucket].first { $0.owner == communicator.rank }?.range ?? run.lowerBound..<run.lowerBound
    }

    /// Posts the receives of this step's contributions to this rank's run.
    func beginStep() throws {
        buckets.reset()
        for bucket in 0..<buckets.count {
            let piece = ownPiece(bucket)
            guard !piece.isEmpty else { continue }
            receives[bucket] = try (0..<communicator.size).compactMap { sender in
                guard let buffer = incoming[sender] else { return nil }
                let start = buffer.base + (piece.lowerBound - run.lowerBound)
                return try communicator.startReceive(UnsafeMutableBufferPointer(start: start, count: piece.count),
                                                     from: sender, tag: bucket)
            }
        }
    }

    func gradientReady(_ tensor: Tensor) throws {
        for bucket in buckets.markReady(tensor) { try send(bucket) }
        for requests in sends.prefix(buckets.startable) { for request in requests { _ = request.test() } }
    }

    /// Sends every other rank its piece of `bucket`.
    private func send(_ bucket: Int) throws {
        sends[bucket] = try pieces[bucket].filter { $0.owner != communicator.rank }.map { piece in
            try communicator.startSend(UnsafeBufferPointer(start: parameters.gradients.base + piece.range.lowerBound,
                                                           count: piece.range.count), to: piece.owner, tag: bucket)
        }
    }

    /// Sends what backward did not reach, then adds each bucket's
    /// contributions as they arrive.
    func finish() throws {
        let begin = DispatchTime.now().uptimeNanoseconds
        for bucket in buckets.markAllReady() { try send(bucket) }
        for bucket in 0..<buckets.count {
            for request in receives[bucket] { try request.wait() }
            let piece = ownPiece(bucket)
            if !piece.isEmpty {
                let own = parameters.gradients.base + piece.lowerBound
                let contributions = incoming.map { buffer in
                    UnsafePointer(buffer.map { $0.base + (piece.lowerBound - run.lowerBound) } ?? own)
                }
                TreeSum.sum(contributions, into: own, count: piece.count)
            }
        }
        for requests in sends { for request in requests { try request.wait() } }
        waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
        for i in 0..<buckets.count { (sends[i], receives[i]) = ([], []) }
    }
}
