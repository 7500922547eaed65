import NN
import TensorCore

/// Updates a `ParameterSet` from its gradients, in one pass over flat memory.
///
/// Each optimizer keeps its per-parameter state in flat buffers laid out
/// like the parameters, and exposes it by parameter name and state name
/// (`momentum_buffer`; `exp_avg`, `exp_avg_sq`; `square_avg`, `grad_avg`)
/// for checkpoints.
public protocol Optimizer: AnyObject {
    /// The parameters being optimised.
    var parameters: ParameterSet { get }
    /// Number of `step()` calls so far.
    var stepCount: Int { get set }
    /// "sgd", "adam", "adamw" or "rmsprop": what a checkpoint records to refuse a mismatch.
    var typeName: String { get }
    /// Hyper-parameters by PyTorch name (lr, momentum, betas, ...).
    var hyperParameters: [String: Double] { get }
    /// Factor applied to each gradient as the step reads it (1 / world size
    /// under data parallelism: the allreduce leaves sums, the step uses means).
    var gradientScale: Float { get set }
    /// Learning rate (schedulers may change it).
    var learningRate: Float { get set }
    /// Names of the per-parameter state buffers, e.g. ["exp_avg", "exp_avg_sq"].
    var stateNames: [String] { get }
    /// The flat buffer for state `name` (same layout as the parameters).
    func stateBuffer(_ name: String) -> Storage?
    /// Applies one update using the current gradients.
    func step()
}

extension Optimizer {
    /// Zeroes every gradient.
    public func zeroGrad() { parameters.zeroGrad() }

    /// State `stateName` of parameter `parameterName`, as a tensor view.
    public func state(_ stateName: String, of parameterName: String) -> Tensor? {
        guard let buffer = stateBuffer(stateName), let i = parameters.index(of: parameterName) else { return nil }
        return Tensor(shape: parameters.tensors[i].shape, storage: buffer, offset: parameters.offsets[i])
    }
}
