/// A user-defined op: a forward and an explicit backward, like
/// `torch.autograd.Function`. It composes with the built-in ops.
///
/// ```swift
/// struct Square: Function {
///     func forward(_ x: [Tensor], context: FunctionContext) -> Tensor {
///         context.saveForBackward(x[0])
///         return x[0] * x[0]
///     }
///     func backward(_ gradOutput: Tensor, context: FunctionContext) -> [Tensor?] {
///         [gradOutput * 2 * context.savedTensors[0]]
///     }
/// }
/// let y = Square()(x)
/// ```
public protocol Function {
    /// Computes the output from `inputs`. Runs with recording off.
    func forward(_ inputs: [Tensor], context: FunctionContext) -> Tensor
    /// The gradient for each input (same shape, or nil for none) given the
    /// output's gradient. Runs with recording off.
    func backward(_ gradOutput: Tensor, context: FunctionContext) -> [Tensor?]
}

/// What `forward` keeps for `backward` (PyTorch's `ctx`).
public final class FunctionContext {
    /// Tensors stored by `saveForBackward`.
    public private(set) var savedTensors: [Tensor] = []
    /// Any other values the function wants to keep.
    public var values: [String: Float] = [:]

    public init() {}

    /// Keeps `tensors` for `backward`.
    public func saveForBackward(_ tensors: Tensor...) { savedTensors.append(contentsOf: tensors) }
}

extension Function {
    /// Applies the function to `inputs`, recording it for backward.
    public func callAsFunction(_ inputs: Tensor...) -> Tensor { apply(inputs) }

    /// Applies the function to `inputs`, recording it for backward.
    public func apply(_ inputs: [Tensor]) -> Tensor {
        let context = FunctionContext()
        let result = withNoGrad { forward(inputs.map { $0.detached() }, context: context) }
        // A fresh output, so the graph sees this function as one node.
        let out = Tensor(shape: result.shape, storage: result.storage, offset: result.offset)
        return out.recorded(inputs) { g in
            let grads = withNoGrad { backward(g, context: context) }
            ensure(grads.count == inputs.count,
                         "\(type(of: self)).backward returned \(grads.count) gradients for \(inputs.count) inputs")
            for (input, grad) in zip(inputs, grads) where input.requiresGrad {
                guard let grad else { continue }
                ensure(grad.shape == input.shape,
                             "\(type(of: self)).backward: gradient \(grad.shape) for input \(input.shape)")
                let gi = input.gradData(), pg = grad.data
                for i in 0..<grad.count { gi[i] += pg[i] }
            }
        }
    }
}
