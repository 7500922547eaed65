import NN
import Optim

extension Trainer {
    /// The optimizer `options` name (`--optimizer`), with their
    /// hyper-parameters, over `parameters` (this rank's `shard` when sharded).
    static func builtInOptimizer(_ options: TrainingOptions, _ parameters: ParameterSet, shard: Range<Int>?) -> any Optimizer {
        let decay = options.resolvedWeightDecay
        switch options.optimizer {
        case .sgd:
            return SGD(parameters, learningRate: options.learningRate, momentum: options.momentum, weightDecay: decay, shard: shard)
        case .adam:
            return Adam(parameters, learningRate: options.learningRate, weightDecay: decay, shard: shard)
        case .adamw:
            return AdamW(parameters, learningRate: options.learningRate, weightDecay: decay, shard: shard)
        case .rmsprop:
            return RMSprop(parameters, learningRate: options.learningRate, alpha: options.alpha, weightDecay: decay,
                           momentum: options.momentum, centered: options.centered, shard: shard)
        }
    }
}
