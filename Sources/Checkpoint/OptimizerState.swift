/// An optimizer's state for a checkpoint: its kind, hyper-parameters, step
/// count and per-parameter buffers.
///
/// Each buffer is laid out exactly like the parameters (the same
/// `TensorLayout`), the way the trainer's optimizers keep them, and is
/// written as `/optimizer/<parameter>/<state name>`. Equality compares the
/// buffers bit for bit.
public struct OptimizerState: Sendable, Equatable {
    /// "sgd" or "adam" (the optimizer's `typeName`).
    public var type: String
    /// Hyper-parameters by PyTorch name: lr, momentum, weight_decay, eps, ...
    /// Each becomes a float64 attribute of `/optimizer`, so "type" and
    /// "step" are not allowed as names.
    public var hyperParameters: [String: Double]
    /// Number of optimizer steps taken (Adam's bias correction needs it).
    public var step: Int
    /// Flat state buffers by state name (`momentum_buffer`; `exp_avg`,
    /// `exp_avg_sq`), each laid out like the parameters. Empty for SGD
    /// without momentum.
    public var buffers: [String: [Float]]

    /// An optimizer state.
    public init(type: String, hyperParameters: [String: Double], step: Int, buffers: [String: [Float]] = [:]) {
        self.type = type
        self.hyperParameters = hyperParameters
        self.step = step
        self.buffers = buffers
    }

    /// The names of the state buffers, sorted.
    public var stateNames: [String] { buffers.keys.sorted() }

    public static func == (lhs: OptimizerState, rhs: OptimizerState) -> Bool {
        guard lhs.type == rhs.type, lhs.hyperParameters == rhs.hyperParameters, lhs.step == rhs.step,
              lhs.stateNames == rhs.stateNames else { return false }
        return lhs.buffers.allSatisfy { name, values in bitwiseEqual(values, rhs.buffers[name]!) }
    }
}
