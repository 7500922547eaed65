import NN
import TensorCore

/// Updates a `ParameterSet` from its gradients, in one pass over flat memory.
///
/// Each optimizer keeps its per-parameter state in flat buffers laid out
/// like the parameters, and exposes it by parameter name and state name
/// (`momentum_buffer`; `exp_avg`, `exp_avg_sq`; `square_avg`, `grad_avg`)
/// for checkpoints.
///
/// Every update is elementwise, so an optimizer may own a `shard` of the
/// flat buffer only (ZeRO stage 1, as torch's ZeroRedundancyOptimizer): it
/// updates those elements and holds state for them alone, and the ranks of a
/// job that split the buffer between them together do exactly the update one
/// optimizer over everything would.
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
    /// The trainer's `TrainingStep` sets it from its gradient reducer.
    var gradientScale: Float { get set }
    /// Learning rate (schedulers may change it).
    var learningRate: Float { get set }
    /// Names of the per-parameter state buffers, e.g. ["exp_avg", "exp_avg_sq"].
    var stateNames: [String] { get }
    /// The elements of the flat parameter buffer that `step()` updates and
    /// the state covers: all of them, or this rank's slice when sharded.
    var shard: Range<Int> { get }
    /// The flat buffer for state `name`, laid out like the parameters of
    /// `shard` (element 0 is parameter element `shard.lowerBound`).
    func stateBuffer(_ name: String) -> Storage?
    /// Applies one update to the elements of `shard`, from the current gradients.
    func step()
}

extension Optimizer {
    /// Zeroes every gradient.
    public func zeroGrad() { parameters.zeroGrad() }

    /// State `stateName` of parameter `parameterName`, as a tensor view (nil
    /// when the parameter lies outside this optimizer's shard).
    public func state(_ stateName: String, of parameterName: String) -> Tensor? {
        guard let buffer = stateBuffer(stateName), let i = parameters.index(of: parameterName),
              shard.lowerBound <= parameters.range(of: i).lowerBound, parameters.range(of: i).upperBound <= shard.upperBound
        else { return nil }
        return Tensor(shape: parameters.tensors[i].shape, storage: buffer, offset: parameters.offsets[i] - shard.lowerBound)
    }

    /// Bytes of optimizer state this optimizer holds (its shard's).
    public var stateBytes: Int {
        stateNames.reduce(0) { $0 + (stateBuffer($1)?.count ?? 0) } * MemoryLayout<Float>.stride
    }

    /// `shard`, or all parameters when nil, checked against the parameter count.
    static func resolve(_ shard: Range<Int>?, _ parameters: ParameterSet) -> Range<Int> {
        let shard = shard ?? 0..<parameters.count
        ensure(shard.lowerBound >= 0 && shard.upperBound <= parameters.count,
                     "shard \(shard) outside the \(parameters.count) parameters")
        return shard
    }
}
