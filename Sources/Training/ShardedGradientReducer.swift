import Collective
import Foundation
import NN
import Optim
import TensorCore

/// Sums a step's gradients across ranks into the run of the flat buffer that
/// each rank's sharded optimizer updates (ZeRO stage 1's reduce-scatter),
/// overlapping backward.
///
/// Every rank cuts the buffer alike into segments: each bucket's piece in
/// each rank's run, cut again at the row blocks of the large weights
/// (`rowBlocks`). A segment goes to its run's owner as soon as its
/// gradients are final: a row block when backward reports it
/// (`WeightGradientBlocks`), the rest when its bucket is complete. The
/// receives of this rank's segments, one per other rank, are posted when
/// the step begins. `finish()` then adds, for each bucket, the
/// contributions of all ranks in rank order (`TreeSum`): the sums land
/// where the optimizer reads them, in an order fixed by the world size
/// alone. At two ranks it is a + b, the bits MPI_Allreduce gives, so
/// sharding changes no result. Elsewhere the gradient buffer keeps this
/// rank's own, unreduced values.
///
/// A blocked weight's rows are computed other ranks' runs first, this
/// rank's own last, so what is sent travels while the rest is computed.
///
/// Point-to-point messages rather than OpenMPI's collectives because they
/// are twice as fast here: between two ranks of this machine, after a
/// barrier, the two halves of 407 KB took 0.04-0.06 ms as Isend/Irecv plus
/// the vectorised add, 0.07-0.12 ms as two in-place MPI_Reduce and 0.06-0.2
/// ms as MPI_Reduce_scatter (scratch benchmark, 2 x 300 each, two settings
/// of mpi_yield_when_idle).
final class ShardedGradientReducer: GradientReduction {
    /// A piece of the buffer that one message carries.
    struct Segment {
        var bucket: Int
        var owner: Int
        var range: Range<Int>
        /// The row block it lies in, for a blocked weight: (parameter, block).
        var block: BlockKey?
    }

    struct BlockKey: Hashable {
        var parameter: Int
        var block: Int
    }

    let communicator: Communicator
    let parameters: ParameterSet
    private(set) var buckets: GradientBuckets
    /// Every segment, in bucket order; a segment's index is its message tag.
    private let segments: [Segment]
    /// The segments of each bucket (indices into `segments`).
    private let segmentsOfBucket: [[Int]]
    /// Per blocked weight (registration index), its row blocks in row order
    /// (a block's index in `BlockKey`) and in the order to compute them;
    /// per row block, the segments it holds.
    private let blockRows: [Int: [Range<Int>]]
    private let rowBlocks: [Int: [Range<Int>]]
    private let segmentsOfBlock: [BlockKey: [Int]]
    private let parameterIndex: [ObjectIdentifier: Int]
    /// This rank's run of the flat buffer, and this rank's piece of each bucket.
    private let run: Range<Int>
    private let ownPieces: [Range<Int>]
    /// Per other rank, its contributions to `run` (nil at this rank's index).
    private let incoming: [Storage?]
    private var sent: [Bool]
    private var sends: [CommunicationRequest] = []
    /// Per bucket: the receives of this rank's segments, one per other rank.
    private var receives: [[CommunicationRequest]]
    /// A send that failed inside a block report (which cannot throw); `finish()` rethrows it.
    private var failure: (any Error)?
    private(set) var waitSeconds = 0.0

    /// `rowBlocks` > 1 cuts each weight gradient of at least
    /// `blockedWeightBytes` with at least as many rows into that many row blocks.
    init(communicator: Communicator, parameters: ParameterSet, optimizer: any Optimizer, shards: OptimizerShards,
         bucketBytes: Int, rowBlocks blockCount: Int = 1, blockedWeightBytes: Int = 64 << 10) {
        self.communicator = communicator
        self.parameters = parameters
        let rank = communicator.rank
        let buckets = GradientBuckets(parameters: parameters, bucketBytes: bucketBytes)
        self.buckets = buckets
        let run = shards.runs[rank]
        self.run = run

        // Row blocks: equal in rows, so the same on every rank and at every world size.
        var blockBounds: [Int: [Range<Int>]] = [:]  // parameter -> element ranges of its blocks (in row order)
        var rowRanges: [Int: [Range<Int>]] = [:]
        for (index, tensor) in parameters.tensors.enumerated() where blockCount > 1 && tensor.rank == 2
            && tensor.shape[0] >= blockCount && tensor.count * MemoryLayout<Float>.stride >= blockedWeightBytes {
            let rows = tensor.shape[0], columns = tensor.shape[1], start = parameters.offsets[index]
            let blocks = (0..<blockCount).map { ($0 * rows / blockCount)..<(($0 + 1) * rows / blockCount) }
            rowRanges[index] = blocks
            blockBounds[index] = blocks.map { (start + $0.lowerBound * columns)..<(start + $0.upperBound * columns) }
        }

        // Every block of every blocked weight, in buffer order: where pieces are cut.
        let allBlocks = blockBounds.flatMap { parameter, blocks in
            blocks.enumerated().map { (BlockKey(parameter: parameter, block: $0.offset), $0.element) }
        }.sorted { $0.1.lowerBound < $1.1.lowerBound }
        var segments: [Segment] = []
        var segmentsOfBucket: [[Int]] = []
        for (bucket, range) in buckets.ranges.enumerated() {
            var mine: [Int] = []
            for (owner, ownerRun) in shards.runs.enumerated() {
                let piece = ownerRun.clamped(to: range)
                guard !piece.isEmpty else { continue }
                // Cut the piece at the blocks of the blocked weights inside it.
                var cursor = piece.lowerBound
                for (key, block) in allBlocks where block.overlaps(piece) {
                    let part = block.clamped(to: piece)
                    if part.lowerBound > cursor {
                        segments.append(Segment(bucket: bucket, owner: owner, range: cursor..<part.lowerBound))
                        mine.append(segments.count - 1)
                    }
                    segments.append(Segment(bucket: bucket, owner: owner, range: part, block: key))
                    mine.append(segments.count - 1)
                    cursor = part.upperBound
                }
                if cursor < piece.upperBound {
                    segments.append(Segment(bucket: bucket, owner: owner, range: cursor..<piece.upperBound))
                    mine.append(segments.count - 1)
                }
            }
            segmentsOfBucket.append(mine)
        }
        self.segments = segments
        self.segmentsOfBucket = segmentsOfBucket
        var segmentsOfBlock: [BlockKey: [Int]] = [:]
        for (index, segment) in segments.enumerated() {
            if let key = segment.block { segmentsOfBlock[key, default: []].append(index) }
        }
        self.segmentsOfBlock = segmentsOfBlock
        blockRows = rowRanges
        // Compute order: the blocks other ranks own (in part) first, this rank's own last.
        rowBlocks = rowRanges.reduce(into: [:]) { order, entry in
            let (parameter, rows) = entry
            let bounds = blockBounds[parameter]!
            let isOwn = rows.indices.map { run.lowerBound <= bounds[$0].lowerBound && bounds[$0].upperBound <= run.upperBound }
            order[parameter] = (rows.indices.filter { !isOwn[$0] } + rows.indices.filter { isOwn[$0] }).map { rows[$0] }
        }
        parameterIndex = Dictionary(uniqueKeysWithValues: parameters.tensors.enumerated().map {
            (ObjectIdentifier($0.element), $0.offset)
        })
        ownPieces = buckets.ranges.map { run.clamped(to: $0) }
        incoming = (0..<communicator.size).map { $0 == rank ? nil : Storage(count: run.count, zeroed: false) }
        sent = Array(repeating: false, count: segments.count)
        receives = Array(repeating: [], count: buckets.count)
        optimizer.gradientScale = 1 / Float(communicator.size)
    }

    /// Whether any weight is cut into row blocks.
    var blocksWeights: Bool { !rowBlocks.isEmpty }

    /// The hooks that make backward compute the blocked weights' gradients
    /// in row blocks and report each one.
    func weightGradientBlocks() -> WeightGradientBlocks {
        WeightGradientBlocks(
            blocks: { [unowned self] weight in parameterIndex[ObjectIdentifier(weight)].flatMap { rowBlocks[$0] } },
            ready: { [unowned self] weight, rows in
                guard let parameter = parameterIndex[ObjectIdentifier(weight)],
                      let block = blockRows[parameter]?.firstIndex(of: rows) else { return }
                do {
                    for index in segmentsOfBlock[BlockKey(parameter: parameter, block: block)] ?? [] { try send(index) }
                    poll()
                } catch {
                    failure = failure ?? error
                }
            })
    }

    /// Posts the receives of this step's contributions to this rank's run.
    func beginStep() throws {
        buckets.reset()
        for i in sent.indices { sent[i] = false }
        for (index, segment) in segments.enumerated() where segment.owner == communicator.rank {
            for sender in 0..<communicator.size {
                guard let buffer = incoming[sender] else { continue }
                let start = buffer.base + (segment.range.lowerBound - run.lowerBound)
                receives[segment.bucket].append(try communicator.startReceive(
                    UnsafeMutableBufferPointer(start: start, count: segment.range.count), from: sender, tag: index))
            }
        }
    }

    func gradientReady(_ tensor: Tensor) throws {
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
        sends.append(try communicator.startSend(
            UnsafeBufferPointer(start: parameters.gradients.base + segment.range.lowerBound, count: segment.range.count),
            to: segment.owner, tag: index))
    }

    /// Sends what backward did not reach, then adds each bucket's
    /// contributions as they arrive.
    func finish() throws {
        let begin = DispatchTime.now().uptimeNanoseconds
        if let failure {
            self.failure = nil
            throw failure
        }
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
