import TensorCore

/// max(x, 0) elementwise.
public final class ReLU: Module {
    public init() {}
    public func forward(_ input: Tensor) -> Tensor { input.relu() }
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
