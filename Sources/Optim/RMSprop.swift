import CKernels
import NN
import TensorCore

/// RMSprop with torch.optim.RMSprop's exact update (_single_tensor_rmsprop):
///
///     g = grad + weight_decay * p
///     square_avg = alpha * square_avg + (1 - alpha) * g * g
///     centered:      grad_avg = lerp(grad_avg, g, 1 - alpha)
///                    avg = sqrt(square_avg - grad_avg^2) + eps
///     not centered:  avg = sqrt(square_avg) + eps
///     momentum > 0:  buf = momentum * buf + g / avg;  p -= lr * buf
///     otherwise:     p -= lr * g / avg
///
/// As in torch there is no bias correction (the averages start at zero, so
/// the first steps are large: about lr / sqrt(1 - alpha)), and the centered
/// variance is not clamped: rounding that makes it negative gives NaN there
/// as it does in torch.
public final class RMSprop: Optimizer {
    public let parameters: ParameterSet
    public var learningRate: Float
    public let alpha: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let momentum: Float
    /// Whether the square average is centered by the squared mean gradient
    /// (an estimate of the variance instead of the second moment).
    public let centered: Bool
    public var stepCount = 0
    public var gradientScale: Float = 1
    /// Running average of the squared gradients (`square_avg`), laid out like the parameters of `shard`.
    public let squareAverage: Storage
    /// Running average of the gradients (`grad_avg`; empty unless centered).
    public let gradientAverage: Storage
    /// The momentum buffers (`momentum_buffer`; empty without momentum).
    public let momentumBuffer: Storage
    public let shard: Range<Int>

    public init(_ parameters: ParameterSet, learningRate: Float = 0.01, alpha: Float = 0.99, epsilon: Float = 1e-8,
                weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false, shard: Range<Int>? = nil) {
        ensure(learningRate >= 0, "Learning rate must be non-negative, got \(learningRate)")
        ensure(alpha >= 0 && alpha <= 1, "Alpha must be in [0, 1], got \(alpha)")
        ensure(epsilon >= 0, "Epsilon must be non-negative, got \(epsilon)")
        ensure(weightDecay >= 0, "Weight decay must be non-negative, got \(weightDecay)")
        ensure(momentum >= 0, "Momentum must be non-negative, got \(momentum)")
        self.parameters = parameters
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        let shard = Self.resolve(shard, parameters)
        self.shard = shard
        squareAverage = Storage(count: shard.count)
        gradientAverage = Storage(count: centered ? shard.count : 0)
        momentumBuffer = Storage(count: momentum > 0 ? shard.count : 0)
    }

    public var typeName: String { "rmsprop" }

    public var hyperParameters: [String: Double] {
        ["lr": Double(learningRate), "alpha": Double(alpha), "eps": Double(epsilon),
         "weight_decay": Double(weightDecay), "momentum": Double(momentum), "centered": centered ? 1 : 0]
    }

    /// `square_avg`, then `momentum_buffer` with momentum and `grad_avg` when
    /// centered: the state torch creates for the same options.
    public var stateNames: [String] {
        ["square_avg"] + (momentum > 0 ? ["momentum_buffer"] : []) + (centered ? ["grad_avg"] : [])
    }

    public func stateBuffer(_ name: String) -> Storage? {
        switch name {
        case "square_avg": squareAverage
        case "momentum_buffer" where momentum > 0: momentumBuffer
        case "grad_avg" where centered: gradientAverage
        default: nil
        }
    }

    public func step() {
        ck_rmsprop_step(parameters.values.base + shard.lowerBound, parameters.gradients.base + shard.lowerBound,
                        squareAverage.base, centered ? gradientAverage.base : nil, momentum > 0 ? momentumBuffer.base : nil,
                        shard.count, gradientScale, learningRate, alpha, epsilon, weightDecay, momentum)
        stepCount += 1
    }
}
