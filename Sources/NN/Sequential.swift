import TensorCore

/// Applies its layers in order; they are named "0", "1", ... as in PyTorch.
public final class Sequential: Module {
    public let layers: [any Module]

    public init(_ layers: [any Module]) { self.layers = layers }
    public convenience init(_ layers: any Module...) { self.init(layers) }

    public func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { x, layer in layer(x) }
    }

    public var children: [(name: String, module: any Module)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }
}
