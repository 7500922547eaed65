import TensorCore

/// The mean of each kernelSize x kernelSize window, windows `stride` apart
/// (default: kernelSize), zero padding `padding` counted in the divisor, as
/// PyTorch's nn.AvgPool2d with its defaults (count_include_pad=True, floor mode).
public final class AvgPool2d: Module {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        ensure(kernelSize >= 1, "AvgPool2d kernel size must be at least 1, got \(kernelSize)")
        ensure((stride ?? kernelSize) >= 1, "AvgPool2d stride must be at least 1, got \(stride ?? 0)")
        ensure(padding >= 0 && 2 * padding <= kernelSize,
                     "AvgPool2d padding must be in 0...kernelSize / 2, got \(padding) for kernel \(kernelSize)")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    public func forward(_ input: Tensor) -> Tensor {
        Tensor.avgPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    public var configurationDescription: String {
        "\(kernelSize)x\(kernelSize)" + (stride != kernelSize ? ", stride \(stride)" : "")
            + (padding != 0 ? ", padding \(padding)" : "")
    }
}
