import NN
import TensorCore

/// One highway layer (Srivastava, Greff & Schmidhuber 2015, arXiv:1505.00387):
/// y = H(x) T(x) + x (1 - T(x)), with H(x) = ReLU(x W_H^T + b_H) the transform
/// and T(x) = Sigmoid(x W_T^T + b_T) the transform gate.
///
/// The gate bias starts at `gateBias` (default -2; the paper uses -1 to -3),
/// so a fresh layer mostly carries its input through (T about 0.12), which
/// lets deep stacks train. Parameter names: `transform.weight`,
/// `transform.bias`, `gate.weight`, `gate.bias`.
public final class HighwayLayer: Module {
    public let transform: Linear
    public let gate: Linear

    public init(_ width: Int, gateBias: Float = -2, generator: inout RandomGenerator) {
        transform = Linear(width, width, generator: &generator)
        gate = Linear(width, width, generator: &generator)
        gate.bias!.data.initialize(repeating: gateBias, count: width)
    }

    public func forward(_ input: Tensor) -> Tensor {
        let h = transform(input).relu()
        let t = gate(input).sigmoid()
        return input + t * (h - input)  // = h t + x (1 - t)
    }

    public var children: [(name: String, module: any Module)] { [("transform", transform), ("gate", gate)] }

    public var configurationDescription: String { "\(transform.inFeatures)" }
}

/// A highway network classifier: Flatten -> Linear(features, width) -> ReLU
/// -> depth highway layers of `width` -> Linear(width, classes).
///
/// Parameter names: `input.weight`, `input.bias`, `layers.<i>.transform.*`,
/// `layers.<i>.gate.*` for i in 0..<depth, `output.weight`, `output.bias`.
public final class HighwayClassifier: Module {
    public let input: Linear
    public let layers: Sequential
    public let output: Linear
    private let flatten = Flatten()
    private let relu = ReLU()

    public init(inputFeatures: Int = 784, width: Int, depth: Int, classes: Int = 10, generator: inout RandomGenerator) {
        ensure(width > 0 && depth > 0, "HighwayClassifier needs a positive width and depth, got \(width) and \(depth)")
        input = Linear(inputFeatures, width, generator: &generator)
        layers = Sequential((0..<depth).map { _ in HighwayLayer(width, generator: &generator) })
        output = Linear(width, classes, generator: &generator)
    }

    public func forward(_ x: Tensor) -> Tensor { output(layers(relu(input(flatten(x))))) }

    public var children: [(name: String, module: any Module)] {
        [("input", input), ("layers", layers), ("output", output)]
    }
}

/// A highway auto-encoder with a bottleneck:
/// encoder Linear(features, width) -> ReLU -> depth highway layers -> Linear(width, latent) -> ReLU,
/// decoder Linear(latent, width) -> ReLU -> depth highway layers -> Linear(width, features) -> Sigmoid.
///
/// Parameter names (two nn.Sequential): `encoder.0` (Linear), `encoder.2` ...
/// `encoder.<1+depth>` (highway layers, each `.transform.*` and `.gate.*`),
/// `encoder.<2+depth>` (Linear to the code); the decoder alike.
public final class HighwayAutoEncoder: Module {
    public let encoder: Sequential
    public let decoder: Sequential
    private let flatten = Flatten()

    public init(inputFeatures: Int = 784, width: Int, depth: Int, latent: Int, generator: inout RandomGenerator) {
        ensure(width > 0 && depth > 0 && latent > 0,
                     "HighwayAutoEncoder needs positive sizes, got width \(width), depth \(depth), latent \(latent)")
        var e: [any Module] = [Linear(inputFeatures, width, generator: &generator), ReLU()]
        for _ in 0..<depth { e.append(HighwayLayer(width, generator: &generator)) }
        e += [Linear(width, latent, generator: &generator), ReLU()]
        var d: [any Module] = [Linear(latent, width, generator: &generator), ReLU()]
        for _ in 0..<depth { d.append(HighwayLayer(width, generator: &generator)) }
        d += [Linear(width, inputFeatures, generator: &generator), Sigmoid()]
        encoder = Sequential(e)
        decoder = Sequential(d)
    }

    public func forward(_ x: Tensor) -> Tensor { decoder(encoder(flatten(x))) }

    public var children: [(name: String, module: any Module)] { [("encoder", encoder), ("decoder", decoder)] }
}
