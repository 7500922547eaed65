import CKernels
import NN
import TensorCore

/// Stochastic gradient descent with torch.optim.SGD's exact update:
///
///     g = grad + weight_decay * p
///     buf = g                                   (first step)
///     buf = momentum * buf + (1 - dampening) * g (later steps)
///     g = nesterov ? g + momentum * buf : buf    (when momentum != 0)
///     p -= lr * g
public final class SGD: Optimizer {
    public let parameters: ParameterSet
    public var learningRate: Float
    public let momentum: Float
    public let dampening: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public var stepCount = 0
    public var gradientScale: Float = 1
    /// The momentum buffers, laid out like the parameters of `shard` (empty without momentum).
    public let momentumBuffer: Storage
    public let shard: Range<Int>

    public init(_ parameters: ParameterSet, learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                nesterov: Bool = false, weightDecay: Float = 0, shard: Range<Int>? = nil) {
        ensure(learningRate >= 0, "Learning rate must be non-negative, got \(learningRate)")
        ensure(momentum >= 0, "Momentum must be non-negative, got \(momentum)")
        ensure(weightDecay >= 0, "Weight decay must be non-negative, got \(weightDecay)")
        ensure(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum requires a momentum and zero dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.shard = Self.resolve(shard, parameters)
        momentumBuffer = Storage(count: momentum != 0 ? self.shard.count : 0)
    }

    public var typeName: String { "sgd" }

    public var hyperParameters: [String: Double] {
        ["lr": Double(learningRate), "momentum": Double(momentum), "dampening": Double(dampening),
         "nesterov": nesterov ? 1 : 0, "weight_decay": Double(weightDecay)]
    }

    public var stateNames: [String] { momentum != 0 ? ["momentum_buffer"] : [] }

    public func stateBuffer(_ name: String) -> Storage? { name == "momentum_buffer" && momentum != 0 ? momentumBuffer : nil }

    public func step() {
        ck_sgd_step(parameters.values.base + shard.lowerBound, parameters.gradients.base + shard.lowerBound,
                    momentum != 0 ? momentumBuffer.base : nil, shard.count, gradientScale, learningRate, momentum, dampening, nesterov ? 1 : 0, weightDecay,
                    stepCount == 0 ? 1 : 0)
        stepCount += 1
    }
}
