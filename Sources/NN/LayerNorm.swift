import TensorCore

/// Layer normalisation over the trailing `normalizedShape` dimensions, as
/// PyTorch's nn.LayerNorm: each row (an index of the leading dimensions) is
/// normalised with its own mean and biased variance, then scaled by `weight`
/// (ones) and shifted by `bias` (zeros), both shaped `normalizedShape`.
/// No running statistics: training and evaluation compute the same thing.
public final class LayerNorm: Module {
    public let normalizedShape: [Int]
    public let eps: Float
    /// The scale [normalizedShape], nil unless `elementwiseAffine`.
    public let weight: Tensor?
    /// The shift [normalizedShape], nil unless `elementwiseAffine` and `bias`.
    public let bias: Tensor?

    public init(_ normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        ensure(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                     "LayerNorm needs a non-empty normalizedShape of positive sizes, got \(normalizedShape)")
        ensure(eps > 0, "LayerNorm eps must be positive, got \(eps)")
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? .ones(normalizedShape, requiresGrad: true) : nil
        self.bias = elementwiseAffine && bias ? .zeros(normalizedShape, requiresGrad: true) : nil
    }

    /// Normalisation over the last dimension, of size `normalizedShape`.
    public convenience init(_ normalizedShape: Int, eps: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        self.init([normalizedShape], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias)
    }

    public func forward(_ input: Tensor) -> Tensor {
        Tensor.layerNorm(input, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        [weight.map { ("weight", $0) }, bias.map { ("bias", $0) }].compactMap { $0 }
    }

    public var configurationDescription: String {
        var text = normalizedShape.map(String.init).joined(separator: "x")
        if eps != 1e-5 { text += ", eps \(eps)" }
        if weight == nil { text += ", no affine" } else if bias == nil { text += ", no bias" }
        return text
    }
}
