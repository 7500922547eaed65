import TensorCore

/// y = x W^T + b, with W shaped [out, in] and b [out], as PyTorch's nn.Linear.
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    /// PyTorch's default initialisation: kaiming_uniform(a = sqrt(5)) for W,
    /// which is U(-1/sqrt(in), 1/sqrt(in)), and the same bound for b.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        ensure(inFeatures > 0 && outFeatures > 0, "Linear sizes must be positive, got \(inFeatures) -> \(outFeatures)")
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = .uniform([outFeatures, inFeatures], low: -bound, high: bound, generator: &generator, requiresGrad: true)
        self.bias = bias ? .uniform([outFeatures], low: -bound, high: bound, generator: &generator, requiresGrad: true) : nil
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func forward(_ input: Tensor) -> Tensor { Tensor.linear(input, weight: weight, bias: bias) }

    public var localParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public var configurationDescription: String { "\(inFeatures) -> \(outFeatures)" }
}
