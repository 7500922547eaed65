import NN
import TensorCore

/// A deep auto-encoder: encoder 784 -> layers[0] -> ... -> layers.last (the
/// code), decoder the mirror image back to 784, Sigmoid output. Every hidden
/// layer has a ReLU; the code layer is linear, as in Hinton & Salakhutdinov
/// (2006), so no code unit can die.
///
/// For layers [500, 100, 30], parameter names (two nn.Sequential):
/// `encoder.0` Linear(784, 500), `encoder.2` Linear(500, 100), `encoder.4`
/// Linear(100, 30), `decoder.0` Linear(30, 100), `decoder.2` Linear(100, 500),
/// `decoder.4` Linear(500, 784), each with `.weight` and `.bias`.
public final class DeepAutoEncoder: Module {
    public let encoder: Sequential
    public let decoder: Sequential
    private let flatten = Flatten()

    public init(inputFeatures: Int = 784, layers: [Int] = [500, 100, 30], generator: inout RandomGenerator) {
        ensure(!layers.isEmpty && layers.allSatisfy { $0 > 0 }, "DeepAutoEncoder needs positive layer widths, got \(layers)")
        let widths = [inputFeatures] + layers
        var encoderLayers: [any Module] = []
        for i in 0..<layers.count {
            if i > 0 { encoderLayers.append(ReLU()) }
            encoderLayers.append(Linear(widths[i], widths[i + 1], generator: &generator))
        }
        var decoderLayers: [any Module] = []
        for i in stride(from: layers.count, to: 0, by: -1) {
            decoderLayers.append(Linear(widths[i], widths[i - 1], generator: &generator))
            decoderLayers.append(i > 1 ? ReLU() : Sigmoid())
        }
        encoder = Sequential(encoderLayers)
        decoder = Sequential(decoderLayers)
    }

    public func forward(_ input: Tensor) -> Tensor { decoder(encoder(flatten(input))) }

    public var children: [(name: String, module: any Module)] { [("encoder", encoder), ("decoder", decoder)] }
}
