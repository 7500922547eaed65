import Collective
import Foundation
import NN
import TensorCore

/// Adds the gradients of a global batch's M micro-batches in one fixed binary
/// tree, part of it on this rank and the rest across ranks, so that the sum
/// is bitwise the same at every supported world size (see `MicroBatchPlan`).
///
/// On a rank with k = M / W micro-batches, micro-batch i's backward runs
/// into a zeroed buffer of its own (`ParameterSet.redirectGradients`; the
/// last one into `parameters.gradients` itself). While the last backward
/// runs, each bucket whose gradients are final is summed over the k buffers
/// in one pass (`TreeSum`, the rank's subtree) and its exchange with the
/// other ranks starts at once, overlapping the rest of backward. One pass
/// over k buffers, not k - 1 pairwise passes: at a batch of 64 the step is
/// bound by memory traffic over the gradient buffers.
///
/// Across ranks it is recursive doubling: at level l, rank r swaps its
/// partial sum with rank r XOR 2^l and adds. Both partners add the same two
/// values (a + b and b + a are the same bits in IEEE arithmetic), so after
/// log2(W) levels every rank holds the root of the same tree.
///
/// With `acrossRanks` (the sharded optimizer, ranks sharing a machine's
/// memory), the levels above the ranks are a `SharedMemoryReducer`'s
/// instead: each rank adds, for its optimizer run, all ranks' partial sums
/// in rank order in one `TreeSum`, which is the same tree (a machine holds
/// an aligned block of ranks; across machines its group adds the machine
/// sums in machine order, the tree's upper levels), so the bits are those
/// of recursive doubling.
///
/// The root is a sum over the M micro-batches: `meanScale` is 1 / M.
package final class TreeGradientReducer: GradientReduction {
    package let parameters: ParameterSet
    package let plan: MicroBatchPlan
    /// The job's communicator when it has more than one rank.
    package let communicator: Communicator?
    package private(set) var buckets: GradientBuckets
    /// log2(W): levels of the tree above the ranks.
    private let crossLevels: Int
    /// One gradient buffer per local micro-batch; the last is `parameters.gradients`.
    private let leaves: [Storage]
    /// The partner's partial sums arrive here (same layout, one range per bucket).
    private let incoming: Storage?
    /// The levels above the ranks through shared memory, or nil for messages.
    private let acrossRanks: SharedMemoryReducer?
    private var sends: [CommunicationRequest?]
    private var receives: [CommunicationRequest?]
    /// Seconds spent in `finish()` waiting for the partners, summed over steps.
    private var messageWaitSeconds = 0.0
    package var waitSeconds: Double { messageWaitSeconds + (acrossRanks?.waitSeconds ?? 0) }
    private var messageBytes = 0
    package var transportBytes: Int { messageBytes + (acrossRanks?.transportBytes ?? 0) }
    package var peerReadBytes: Int { acrossRanks?.peerReadBytes ?? 0 }
    package var summary: String { "a fixed tree, " + (acrossRanks?.summary ?? "by messages") }

    /// `acrossRanks`, when given, must have moved `parameters` already.
    package init(parameters: ParameterSet, plan: MicroBatchPlan, communicator: Communicator?, bucketBytes: Int,
         acrossRanks: SharedMemoryReducer? = nil) {
        precondition(plan.localMicroBatches <= TreeSum.maximumLeaves,
                     "\(plan.localMicroBatches) micro-batches per rank; at most \(TreeSum.maximumLeaves)")
        self.parameters = parameters
        self.plan = plan
        self.communicator = communicator.flatMap { $0.size > 1 ? $0 : nil }
        buckets = GradientBuckets(parameters: parameters, bucketBytes: bucketBytes)
        let worldSize = self.communicator?.size ?? 1
        crossLevels = worldSize.trailingZeroBitCount
        leaves = (1..<plan.localMicroBatches).map { _ in Storage(count: parameters.count, zeroed: false) }
            + [parameters.gradients]
        self.acrossRanks = acrossRanks
        incoming = worldSize > 1 && acrossRanks == nil ? Storage(count: parameters.count, zeroed: false) : nil
        sends = Array(repeating: nil, count: buckets.count)
        receives = Array(repeating: nil, count: buckets.count)
    }

    package var meanScale: Float { 1 / Float(plan.microBatches) }
    package var reducesOwnRunOnly: Bool { acrossRanks != nil }

    /// Call before local micro-batch `index`'s forward: points the gradients
    /// at its zeroed buffer.
    package func beginMicroBatch(_ index: Int) {
        if index == 0 { buckets.reset() }
        let leaf = leaves[index]
        leaf.base.initialize(repeating: 0, count: leaf.count)
        parameters.redirectGradients(to: leaf)
    }

    /// Backward's report, during the last local micro-batch, that `tensor`'s
    /// gradient is final.
    package func gradientReady(_ tensor: Tensor) throws {
        for bucket in buckets.markReady(tensor) { try complete(bucket) }
        for request in receives.prefix(buckets.startable) { _ = request?.test() }
        for request in sends.prefix(buckets.startable) { _ = request?.test() }
    }

    /// The last micro-batch's `bucket` is final: this rank's subtree over its
    /// range goes into `parameters.gradients`, and the first exchange across
    /// ranks starts.
    private func complete(_ bucket: Int) throws {
        if leaves.count > 1 { TreeSum.sum(leaves, into: parameters.gradients, buckets.ranges[bucket]) }
        try exchange(bucket, level: 0)
    }
    /// Starts swapping `bucket`'s range of the gradients with the partner at `level`.
    private func exchange(_ bucket: Int, level: Int) throws {
        guard let communicator, acrossRanks == nil, level < crossLevels else { return }
        let range = buckets.ranges[bucket]
        let partner = communicator.rank ^ (1 << level)
        let tag = level * buckets.count + bucket
        messageBytes += 2 * range.count * MemoryLayout<Float>.stride  // one send, one receive
        receives[bucket] = try communicator.startReceive(
            UnsafeMutableBufferPointer(start: incoming!.base + range.lowerBound, count: range.count), from: partner, tag: tag)
        sends[bucket] = try communicator.startSend(
            UnsafeBufferPointer(start: parameters.gradients.base + range.lowerBound, count: range.count), to: partner, tag: tag)
    }

    /// Completes the buckets backward did not reach, then the levels across
    /// ranks. `parameters.gradients` then holds the root of the tree on every
    /// rank and backward adds into it again.
    package func finish() throws {
        for bucket in buckets.markAllReady() { try complete(bucket) }
        parameters.redirectGradients(to: parameters.gradients)
        if let acrossRanks { return try acrossRanks.finish() }
        guard let incoming else { return }
        let begin = DispatchTime.now().uptimeNanoseconds
        for level in 0..<crossLevels {
            for bucket in 0..<buckets.count {
                try receives[bucket]?.wait()
                try sends[bucket]?.wait()
                TreeSum.sum([parameters.gradients, incoming], into: parameters.gradients, buckets.ranges[bucket])
                try exchange(bucket, level: level + 1)
            }
        }
        messageWaitSeconds += Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
        for i in 0..<buckets.count { (sends[i], receives[i]) = (nil, nil) }
    }
}
