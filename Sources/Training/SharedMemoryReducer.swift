import Collective
import Foundation
import NN
import TensorCore

/// The sharded optimizer's reduction between ranks that share one machine's
/// memory: no message carries a gradient or a parameter.
///
/// Every rank's gradient buffer lives in a shared-memory window, where
/// backward writes it; the machine holds ONE copy of the parameters, in the
/// same window, that every rank's model views. A step then goes:
///
/// 1. backward writes this rank's gradients in its own part of the window;
/// 2. `finish()`: all ranks synchronise, then each adds, for its optimizer
///    run only, every rank's gradients read in place, in rank order
///    (`TreeSum`, the order and so the bits of `ShardedGradientReducer`),
///    into its own buffer;
/// 3. the optimizer updates this rank's run of the one parameter copy;
/// 4. `shareParameters()`: all ranks synchronise; every rank then sees every
///    run's new values, without a copy (no allgather).
///
/// The two synchronisations are also what keeps the buffers safe: a rank
/// writes its run of the parameters only after every rank has finished the
/// backward that reads them (1 before 2), and zeroes its gradients for the
/// next step only after every peer has read them (2 before 4).
///
/// Per step a rank reads (W - 1) / W of one gradient buffer from its peers
/// and copies nothing; the message path copies each byte it sends and
/// receives in and out of MPI's transport, twice over (reduce-scatter, then
/// allgather). The reduction starts after backward rather than overlapping
/// it: it is one vectorised pass that no bucket boundary would shorten.
final class SharedMemoryReducer: GradientReduction {
    let parameters: ParameterSet
    let window: SharedMemoryWindow
    /// This rank's optimizer run.
    private let run: Range<Int>
    /// Every rank's gradient buffer, as this process sees it, in rank order.
    private let peerGradients: [UnsafePointer<Float>]
    private(set) var waitSeconds = 0.0
    private(set) var peerReadBytes = 0
    /// Nothing goes through MPI but the synchronisations' barriers.
    var transportBytes: Int { 0 }

    /// Moves `parameters` into a window of the ranks of `machine` (all the
    /// job's ranks, on one machine): rank 0 copies its values there (every
    /// rank holds the same ones, broadcast at the start), and every rank's
    /// model then views that one copy. Collective over `machine`.
    init(machine: Communicator, parameters: ParameterSet, shards: OptimizerShards) throws {
        precondition(shards.worldSize == machine.size, "shards \(shards.runs) for \(machine.size) ranks")
        self.parameters = parameters
        run = shards.runs[machine.rank]
        // Each buffer padded to whole cache lines, so that every part of the
        // window starts 64-byte aligned and no two ranks write one line.
        let count = parameters.count
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

    var meanScale: Float { 1 / Float(window.communicator.size) }
    var reducesOwnRunOnly: Bool { true }

    func beginMicroBatch(_ index: Int) throws {}

    func gradientReady(_ tensor: Tensor) throws {}

    /// Waits for every rank's backward, then sums this rank's run of all
    /// ranks' gradients, in rank order, into its own buffer.
    func finish() throws {
        let begin = DispatchTime.now().uptimeNanoseconds
        try window.synchronize()
        let own = parameters.gradients.base + run.lowerBound
        TreeSum.sum(peerGradients.map { $0 + run.lowerBound }, into: own, count: run.count)
        peerReadBytes += (peerGradients.count - 1) * run.count * MemoryLayout<Float>.stride
        waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
    }

    /// After this rank's update of its run: returns once every rank has
    /// updated its own, when the one parameter copy is complete for all.
    func shareParameters() throws {
        try window.synchronize()
    }
}
