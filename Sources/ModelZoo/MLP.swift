import NN
import TensorCore

extension Sequential {
    /// The zoo's `mlp`: Flatten -> Linear(inputFeatures, hidden) -> ReLU
    /// [-> Dropout(dropout)] -> Linear(hidden, classes).
    ///
    /// With `dropout` 0 there is no Dropout layer, so the state dict is
    /// `1.weight` [hidden, inputFeatures], `1.bias`, `3.weight` [classes, hidden],
    /// `3.bias`, as before the option existed. With `dropout` p > 0 it is
    /// PyTorch's
    ///
    ///     nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(),
    ///                   nn.Dropout(p), nn.Linear(hidden, 10))
    ///
    /// with `1.weight`, `1.bias`, `4.weight`, `4.bias`. Dropout draws nothing
    /// from `generator`: either way the weights start the same.
    public static func mlp(inputFeatures: Int = 784, hidden: Int, classes: Int = 10, dropout: Float = 0,
                           generator: inout RandomGenerator) -> Sequential {
        let input = Linear(inputFeatures, hidden, generator: &generator)
        let output = Linear(hidden, classes, generator: &generator)
        let hiddenLayers: [any Module] = dropout > 0 ? [input, ReLU(), Dropout(dropout)] : [input, ReLU()]
        return Sequential([Flatten()] + hiddenLayers + [output])
    }
}
