import CKernels
import NN
import TensorCore

/// Adam with torch.optim.Adam's exact update (amsgrad off):
///
///     g = grad + weight_decay * p
///     m = lerp(m, g, 1 - beta1)            (m + (1 - beta1) (g - m))
///     v = beta2 * v + (1 - beta2) * g * g
///     p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
///
/// With `decoupledWeightDecay` (torch's `decoupled_weight_decay=True`, which
/// is what `AdamW` sets) the first line becomes `p *= 1 - lr * weight_decay`
/// and the gradient is used as it is.
public class Adam: Optimizer {
    public let parameters: ParameterSet
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    /// Whether weight decay shrinks the parameters directly (AdamW) instead
    /// of adding an L2 term to the gradient.
    public let decoupledWeightDecay: Bool
    public var stepCount = 0
    public var gradientScale: Float = 1
    /// First moments (`exp_avg`), laid out like the parameters of `shard`.
    public let firstMoment: Storage
    /// Second moments (`exp_avg_sq`), laid out like the parameters of `shard`.
    public let secondMoment: Storage
    public let shard: Range<Int>

    public init(_ parameters: ParameterSet, learningRate: Float = 0.001, betas: (Float, Float) = (0.9, 0.999),
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false, shard: Range<Int>? = nil) {
        ensure(learningRate >= 0, "Learning rate must be non-negative, got \(learningRate)")
        ensure((0..<1).contains(betas.0) && (0..<1).contains(betas.1), "Betas must be in [0, 1), got \(betas)")
        ensure(epsilon >= 0, "Epsilon must be non-negative, got \(epsilon)")
        ensure(weightDecay >= 0, "Weight decay must be non-negative, got \(weightDecay)")
        self.parameters = parameters
        self.learningRate = learningRate
        (beta1, beta2) = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        let shard = Self.resolve(shard, parameters)
        self.shard = shard
        firstMoment = Storage(count: shard.count)
        secondMoment = Storage(count: shard.count)
    }

    /// "adam", or "adamw" with decoupled weight decay.
    public var typeName: String { decoupledWeightDecay ? "adamw" : "adam" }

    public var hyperParameters: [String: Double] {
        ["lr": Double(learningRate), "beta1": Double(beta1), "beta2": Double(beta2),
         "eps": Double(epsilon), "weight_decay": Double(weightDecay)]
    }

    public var stateNames: [String] { ["exp_avg", "exp_avg_sq"] }

    public func stateBuffer(_ name: String) -> Storage? {
        switch name {
        case "exp_avg": firstMoment
        case "exp_avg_sq": secondMoment
        default: nil
        }
    }

    public func step() {
        stepCount += 1
        // Bias corrections in Double, as Python computes them, then used as Float.
        let t = Double(stepCount)
        let bc1 = 1 - libmPow(Double(beta1), t), bc2 = 1 - libmPow(Double(beta2), t)
        let stepSize = Float(Double(learningRate) / bc1)
        let bc2Sqrt = Float(bc2.squareRoot())
        let (p, g) = (parameters.values.base + shard.lowerBound, parameters.gradients.base + shard.lowerBound)
        if decoupledWeightDecay {
            // torch: param.mul_(1 - lr * weight_decay), the factor in Double as Python computes it.
            let decay = Float(1 - Double(learningRate) * Double(weightDecay))
            ck_adamw_step(p, g, firstMoment.base, secondMoment.base, shard.count, gradientScale, beta1, beta2, epsilon, decay, stepSize, bc2Sqrt)
        } else {
            ck_adam_step(p, g, firstMoment.base, secondMoment.base, shard.count, gradientScale, beta1, beta2, epsilon, weightDecay, stepSize, bc2Sqrt)
        }
    }
}
