import NN
import TensorCore

/// The course's auto-encoder: encoder Linear(784, latent) -> ReLU, decoder
/// Linear(latent, 784) -> Sigmoid, trained to reproduce its (flattened) input.
///
/// Parameter names (two nn.Sequential): `encoder.0.weight` [latent, 784],
/// `encoder.0.bias`, `decoder.0.weight` [784, latent], `decoder.0.bias`.
/// The output is [batch, features], pixel probabilities in (0, 1).
public final class AutoEncoder: Module {
    public let encoder: Sequential
    public let decoder: Sequential
    private let flatten = Flatten()

    public init(inputFeatures: Int = 784, latent: Int, generator: inout RandomGenerator) {
        encoder = Sequential(Linear(inputFeatures, latent, generator: &generator), ReLU())
        decoder = Sequential(Linear(latent, inputFeatures, generator: &generator), Sigmoid())
    }

    public func forward(_ input: Tensor) -> Tensor { decoder(encoder(flatten(input))) }

    public var children: [(name: String, module: any Module)] { [("encoder", encoder), ("decoder", decoder)] }
}
