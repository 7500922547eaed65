import TensorCore

/// How a step sums its gradients across ranks while backward runs:
/// `GradientSynchronizer` (MPI_Allreduce: every rank gets every sum),
/// `ShardedGradientReducer` (reduce-scatter: each rank gets the sums of its
/// optimizer's run) or `TreeGradientReducer` (deterministic mode: one fixed
/// tree over the global batch's micro-batches). `TrainingStep` picks one
/// when it is built and asks it, never its type, what the update needs.
///
/// A reducer leaves sums and says what turns them into the mean gradient
/// (`meanScale`); the step hands that factor to the optimizer, so the
/// optimizer is configured in one place and a reducer never touches it.
package protocol GradientReduction: AnyObject {
    /// The factor that makes this reducer's sums the mean gradient of the
    /// global batch: 1 / world size, or 1 / micro-batches in the tree.
    var meanScale: Float { get }
    /// Whether, after `finish()`, only this rank's optimizer run holds sums
    /// (the rest of the buffer keeps this rank's own, unreduced values).
    var reducesOwnRunOnly: Bool { get }
    /// Call before this rank's micro-batch `index` of a step runs forward;
    /// index 0 starts the step.
    func beginMicroBatch(_ index: Int) throws
    /// Backward's report, during the step's last micro-batch, that
    /// `tensor`'s gradient is final.
    func gradientReady(_ tensor: Tensor) throws
    /// Completes the reduction; the sums are then in `parameters.gradients`.
    func finish() throws
    /// How the gradients travel, for the run's log: "allreduce", ...
    var summary: String { get }
    /// Seconds spent in `finish()`, summed over steps.
    var waitSeconds: Double { get }
    /// Bytes this rank handed to MPI or MPI wrote into its buffers, summed
    /// over steps: each is copied into or out of MPI's transport.
    var transportBytes: Int { get }
    /// Bytes of other ranks' gradients read in place, in shared memory,
    /// summed over steps.
    var peerReadBytes: Int { get }
}
