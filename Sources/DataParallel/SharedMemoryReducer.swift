import Collective
import Foundation
import NN
import TensorCore

/// The sharded optimizer's reduction between ranks that share a machine's
/// memory: no message carries a gradient or a parameter within a machine,
/// and across machines only one machine-summed slice per rank does.
///
/// Every rank's gradient buffer lives in a shared-memory window, where
/// backward writes it; each machine holds ONE copy of the parameters, in the
/// same window, that all its ranks' models view. With one machine, a step
/// goes:
///
/// 1. backward writes this rank's gradients in its own part of the window;
/// 2. `finish()`: the machine's ranks synchronise, then each adds, for its
///    optimizer run only, every rank's gradients read in place, in rank
///    order (`TreeSum`: the order, and so the bits, of
///    `ShardedGradientReducer`), into its own buffer;
/// 3. the optimizer updates this rank's run of the one parameter copy;
/// 4. `shareParameters()`: the ranks synchronise; every rank then sees every
///    run's new values, without a copy (no allgather).
///
/// The synchronisations are also what keeps the buffers safe: a rank writes
/// its run of the parameters only after every rank has finished the
/// backward that reads them (1 before 2), and zeroes its gradients for the
/// next step only after every peer has read them (2 before 4).
///
/// Across machines (a hierarchy, for jobs whose machines each run the same
/// number of ranks): local rank l of every machine forms one group
/// (`across`). In 2, local rank l sums over its machine, as above, the runs
/// of all its group's members rather than its own alone; the members then
/// exchange those machine sums by messages, each receiving the sums of its
/// own run and adding them in group order (so the bits depend on the
/// machines as well as the world size, as the default mode's allreduce
/// does). After the update, each group allgathers its members' runs into
/// its machines' parameter copies, and 4 follows. Per step a machine sends
/// each of its runs' sums once and each updated run once, however many
/// ranks it holds: 2 (M - 1) / M of the gradient's bytes for M machines.
///
/// The reduction starts after backward rather than overlapping it: within
/// a machine it is one vectorised pass that no bucket boundary shortens.
package final class SharedMemoryReducer: GradientReduction {
    package let parameters: ParameterSet
    package let window: SharedMemoryWindow
    /// The ranks with this rank's local index on every machine, in world
    /// order; nil when the job runs on one machine.
    private let across: Communicator?
    /// The world runs of the ranks of `across`, in its order: those whose
    /// machine sums this rank makes (its own alone on one machine).
    private let groupRuns: [Range<Int>]
    /// This rank's optimizer run.
    private let run: Range<Int>
    /// Per member of `across`, its machine's sums of this rank's run (nil at
    /// this rank's index and on one machine).
    private let incoming: [Storage?]
    private let worldSize: Int
    /// Every local rank's gradient buffer, as this process sees it.
    private let peerGradients: [UnsafePointer<Float>]
    package private(set) var waitSeconds = 0.0
    package private(set) var peerReadBytes = 0
    package private(set) var transportBytes = 0

    /// Moves `parameters` into a window of the ranks of `machine` (this
    /// rank's machine's ranks of `world`; every machine must run as many):
    /// local rank 0 copies its values there (every rank holds the same ones,
    /// broadcast at the start), and every rank's model then views that one
    /// copy. Collective over `world`.
    package init(world: Communicator, machine: Communicator, parameters: ParameterSet, shards: OptimizerShards) throws {
        precondition(shards.worldSize == world.size && world.size % machine.size == 0,
                     "shards \(shards.runs) for \(world.size) ranks, \(machine.size) per machine")
        self.parameters = parameters
        worldSize = world.size
        let run = shards.runs[world.rank]
        self.run = run
        let count = parameters.count
        if machine.size < world.size {
            let across = try world.split(color: machine.rank, key: world.rank)
            var members = [Int64](repeating: 0, count: across.size)
            members[across.rank] = Int64(world.rank)
            try across.allreduceSum(&members)
            self.across = across
            groupRuns = members.map { shards.runs[Int($0)] }
            incoming = (0..<across.size).map { $0 == across.rank ? nil : Storage(count: run.count, zeroed: false) }
        } else {
            across = nil
            groupRuns = [run]
            incoming = []
        }
        // Each buffer padded to whole cache lines, so that no two ranks write one line.
        let bytes = (count * MemoryLayout<Float>.stride + 63) / 64 * 64
        let window = try SharedMemoryWindow(communicator: machine, bytes: machine.rank == 0 ? 2 * bytes : bytes)
        self.window = window
        func floats(_ memory: UnsafeMutableRawBufferPointer, at offset: Int) -> UnsafeMutablePointer<Float> {
            precondition(memory.count >= offset + count * MemoryLayout<Float>.stride, "window part of \(memory.count) bytes")
            return (memory.baseAddress! + offset).bindMemory(to: Float.self, capacity: count)
        }
        let shared = floats(window.memory(of: 0), at: 0)
        let gradients = (0..<machine.size).map { floats(window.memory(of: $0), at: $0 == 0 ? bytes : 0) }
        peerGradients = gradients.map { UnsafePointer($0) }
        if machine.rank == 0 { shared.update(from: parameters.values.base, count: count) }
        gradients[machine.rank].initialize(repeating: 0, count: count)
        try window.synchronize()
        parameters.move(values: Storage(borrowing: shared, count: count, owner: window),
                        gradients: Storage(borrowing: gradients[machine.rank], count: count, owner: window))
    }

    package var meanScale: Float { 1 / Float(worldSize) }

    package var summary: String {
        guard let across else { return "shared memory on one machine" }
        return "shared memory within \(across.size) machines of \(window.communicator.size) ranks, messages between them"
    }
    package var reducesOwnRunOnly: Bool { true }

    package func beginMicroBatch(_ index: Int) throws {}

    package func gradientReady(_ tensor: Tensor) throws {}

    /// Waits for the machine's backward and sums its gradients over the
    /// runs of this rank's group; across machines, exchanges those sums
    /// within the group and adds them. Leaves the sums of this rank's run in
    /// its own buffer.
    package func finish() throws {
        let begin = DispatchTime.now().uptimeNanoseconds
        defer { waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9 }
        let stride = MemoryLayout<Float>.stride
        try window.synchronize()
        // The group runs of the machine's ranks cover the buffer once, so
        // each rank writes only where no peer reads.
        let own = parameters.gradients.base
        for range in groupRuns {
            TreeSum.sum(peerGradients.map { $0 + range.lowerBound }, into: own + range.lowerBound, count: range.count)
            peerReadBytes += (peerGradients.count - 1) * range.count * stride
        }
        guard let across else { return }
        var requests: [CommunicationRequest] = []
        for (member, buffer) in incoming.enumerated() {
            guard let buffer else { continue }
            requests.append(try across.startReceive(buffer.buffer, from: member, tag: 0))
            let range = groupRuns[member]
            requests.append(try across.startSend(UnsafeBufferPointer(start: own + range.lowerBound, count: range.count),
                                                 to: member, tag: 0))
            transportBytes += (run.count + range.count) * stride
        }
        for request in requests { try request.wait() }
        let contributions = incoming.map { UnsafePointer($0?.base ?? own + run.lowerBound) }
        TreeSum.sum(contributions, into: own + run.lowerBound, count: run.count)
    }

    /// After this rank's update of its run: returns once every rank of the
    /// machine has updated its own (and, across machines, brought in the
    /// other machines' runs), when the machine's parameter copy is complete.
    package func shareParameters() throws {
        if let across {
            try across.allgather(parameters.values.buffer, runs: groupRuns)
            transportBytes += (groupRuns.reduce(0) { $0 + $1.count }) * MemoryLayout<Float>.stride
        }
        try window.synchronize()
    }
}
