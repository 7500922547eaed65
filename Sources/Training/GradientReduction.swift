import TensorCore

/// How the default mode sums a step's gradients across ranks while
/// backward runs: `GradientSynchronizer` (every rank gets every sum) or
/// `ShardedGradientReducer` (each rank gets the sums of its optimizer's run).
protocol GradientReduction: AnyObject {
    /// Resets the per-step state; call before the last backward.
    func beginStep() throws
    /// Backward's report that `tensor`'s gradient is final.
    func gradientReady(_ tensor: Tensor) throws
    /// Completes the reduction; the sums are then in `parameters.gradients`.
    func finish() throws
    /// Seconds spent in `finish()`, summed over steps.
    var waitSeconds: Double { get }
}
