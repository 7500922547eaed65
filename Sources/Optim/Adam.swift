import CKernels
import NN
import TensorCore

/// Adam with torch.optim.Adam's exact update (amsgrad off):
///
///     g = grad + weight_decay * p
///     m = lerp(m, g, 1 - beta1)            (m + (1 - beta1) (g - m))
///     v = beta2 * v + (1 - beta2) * g * g
///     p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
public final class Adam: Optimizer {
    public let parameters: ParameterSet
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    public var stepCount = 0
    public var gradientScale: Float = 1
    /// First moments (`exp_avg`), laid out like the parameters.
    public let firstMoment: Storage
    /// Second moments (`exp_avg_sq`), laid out like the parameters.
    public let secondMoment: Storage

    public init(_ parameters: ParameterSet, learningRate: Float = 0.001, betas: (Float, Float) = (0.9, 0.999),
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        precondition(learningRate >= 0, "Learning rate must be non-negative, got \(learningRate)")
        precondition((0..<1).contains(betas.0) && (0..<1).contains(betas.1), "Betas must be in [0, 1), got \(betas)")
        precondition(epsilon >= 0, "Epsilon must be non-negative, got \(epsilon)")
        self.parameters = parameters
        self.learningRate = learningRate
        (beta1, beta2) = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoment = Storage(count: parameters.count)
        secondMoment = Storage(count: parameters.count)
    }

    public var typeName: String { "adam" }

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
        let bc1 = 1 - _pow(Double(beta1), t), bc2 = 1 - _pow(Double(beta2), t)
        let stepSize = Float(Double(learningRate) / bc1)
        let bc2Sqrt = Float(bc2.squareRoot())
        ck_adam_step(parameters.values.base, parameters.gradients.base, firstMoment.base, secondMoment.base,
                     parameters.count, gradientScale, beta1, beta2, epsilon, weightDecay, stepSize, bc2Sqrt)
    }
}

#if canImport(Glibc)
import Glibc
private func _pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#else
import Darwin
private func _pow(_ x: Double, _ y: Double) -> Double { Darwin.pow(x, y) }
#endif
