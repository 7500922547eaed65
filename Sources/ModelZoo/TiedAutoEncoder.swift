import NN
import TensorCore

/// An auto-encoder whose decoder uses the transpose of the encoder's weight:
/// code = ReLU(x W^T + b_enc), output = Sigmoid(code W + b_dec).
///
/// W is one parameter: both uses add into its gradient. Parameter names:
/// `encoder.weight` [latent, 784], `encoder.bias` [latent], `decoder.bias` [784]
/// (the decoder registers only its bias, so W is in the state dict once).
public final class TiedAutoEncoder: Module {
    public let encoder: Linear
    public let decoder: TiedLinear
    private let flatten = Flatten()
    private let relu = ReLU()
    private let sigmoid = Sigmoid()

    public init(inputFeatures: Int = 784, latent: Int, generator: inout RandomGenerator) {
        encoder = Linear(inputFeatures, latent, generator: &generator)
        decoder = TiedLinear(transposing: encoder, generator: &generator)
    }

    public func forward(_ input: Tensor) -> Tensor { sigmoid(decoder(relu(encoder(flatten(input))))) }

    public var children: [(name: String, module: any Module)] { [("encoder", encoder), ("decoder", decoder)] }
}

/// y = x W + b where W [out, in] is another Linear's weight, used transposed:
/// a Linear(out, in) that owns only its bias.
public final class TiedLinear: Module {
    /// The Linear whose weight is shared.
    public let tied: Linear
    public let bias: Tensor

    /// The bias is [tied.inFeatures], drawn as nn.Linear(tied.outFeatures,
    /// tied.inFeatures) would draw it: U(±1/sqrt(tied.outFeatures)).
    public init(transposing tied: Linear, generator: inout RandomGenerator) {
        self.tied = tied
        let bound = 1 / Float(tied.outFeatures).squareRoot()
        bias = .uniform([tied.inFeatures], low: -bound, high: bound, generator: &generator, requiresGrad: true)
    }

    public func forward(_ input: Tensor) -> Tensor { Tensor.matmul(input, tied.weight) + bias }

    /// Only the bias: the weight belongs to `tied`.
    public var localParameters: [(name: String, tensor: Tensor)] { [("bias", bias)] }

    public var configurationDescription: String { "\(tied.outFeatures) -> \(tied.inFeatures), tied" }
}
