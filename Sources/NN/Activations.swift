import TensorCore

/// max(x, 0) elementwise.
public final class ReLU: Module {
    public init() {}
    public func forward(_ input: Tensor) -> Tensor { input.relu() }
}

/// x for x > 0, negativeSlope * x otherwise, as PyTorch's nn.LeakyReLU
/// (default slope 0.01).
public final class LeakyReLU: Module {
    public let negativeSlope: Float
    public init(negativeSlope: Float = 0.01) { self.negativeSlope = negativeSlope }
    public func forward(_ input: Tensor) -> Tensor { input.leakyReLU(negativeSlope: negativeSlope) }
    public var configurationDescription: String { negativeSlope != 0.01 ? "slope \(negativeSlope)" : "" }
}

/// x Phi(x) elementwise, PyTorch's nn.GELU() in its exact erf form
/// (approximate='none'); the tanh approximation is not offered.
public final class GELU: Module {
    public init() {}
    public func forward(_ input: Tensor) -> Tensor { input.gelu() }
}

/// 1 / (1 + e^-x) elementwise.
public final class Sigmoid: Module {
    public init() {}
    public func forward(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// tanh(x) elementwise.
public final class Tanh: Module {
    public init() {}
    public func forward(_ input: Tensor) -> Tensor { input.tanh() }
}

/// [B, d1, d2, ...] -> [B, d1*d2*...], keeping the batch dimension.
public final class Flatten: Module {
    public init() {}
    public func forward(_ input: Tensor) -> Tensor { input.flattened() }
}
