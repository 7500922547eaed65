import NN

/// AdamW (torch.optim.AdamW): Adam with decoupled weight decay,
///
///     p *= 1 - lr * weight_decay
///     then Adam's update with the gradient as it is (no L2 term),
///
/// so the decay does not pass through the moment estimates and is not
/// rescaled by them. As in torch (where AdamW is Adam with
/// `decoupled_weight_decay=True`), it is an `Adam` with that flag set, and
/// the default weight decay is 0.01 instead of 0. State: `exp_avg`,
/// `exp_avg_sq`; `typeName` "adamw".
public final class AdamW: Adam {
    public init(_ parameters: ParameterSet, learningRate: Float = 0.001, betas: (Float, Float) = (0.9, 0.999),
                epsilon: Float = 1e-8, weightDecay: Float = 0.01, shard: Range<Int>? = nil) {
        super.init(parameters, learningRate: learningRate, betas: betas, epsilon: epsilon,
                   weightDecay: weightDecay, decoupledWeightDecay: true, shard: shard)
    }
}
