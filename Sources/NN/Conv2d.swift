import TensorCore

/// 2-D convolution over [batch, channels, height, width] inputs, as PyTorch's
/// nn.Conv2d: weight [out, in, kernelSize, kernelSize], bias [out].
public final class Conv2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    /// PyTorch's default initialisation: kaiming_uniform(a = sqrt(5)) for the
    /// weight, which is U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with
    /// fanIn = in * kernelSize^2, and the same bound for the bias.
    public init(_ inChannels: Int, _ outChannels: Int, _ kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, generator: inout RandomGenerator) {
        ensure(inChannels > 0 && outChannels > 0 && kernelSize > 0,
                     "Conv2d sizes must be positive, got \(inChannels) -> \(outChannels), kernel \(kernelSize)")
        ensure(stride >= 1, "Conv2d stride must be at least 1, got \(stride)")
        ensure(padding >= 0, "Conv2d padding must be non-negative, got \(padding)")
        let fanIn = inChannels * kernelSize * kernelSize
        let bound = 1 / Float(fanIn).squareRoot()
        weight = .uniform([outChannels, inChannels, kernelSize, kernelSize], low: -bound, high: bound,
                          generator: &generator, requiresGrad: true)
        self.bias = bias ? .uniform([outChannels], low: -bound, high: bound, generator: &generator, requiresGrad: true) : nil
        self.stride = stride
        self.padding = padding
    }

    public var inChannels: Int { weight.shape[1] }
    public var outChannels: Int { weight.shape[0] }
    public var kernelSize: Int { weight.shape[2] }

    public func forward(_ input: Tensor) -> Tensor {
        Tensor.conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding)
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public var configurationDescription: String {
        var text = "\(inChannels) -> \(outChannels), \(kernelSize)x\(kernelSize)"
        if stride != 1 { text += ", stride \(stride)" }
        if padding != 0 { text += ", padding \(padding)" }
        return text
    }
}
