import TensorCore

/// The maximum of each kernelSize x kernelSize window, windows `stride` apart
/// (default: kernelSize), as PyTorch's nn.MaxPool2d without padding.
public final class MaxPool2d: Module {
    public let kernelSize: Int
    public let stride: Int

    public init(_ kernelSize: Int, stride: Int? = nil) {
        ensure(kernelSize >= 1, "MaxPool2d kernel size must be at least 1, got \(kernelSize)")
        ensure((stride ?? kernelSize) >= 1, "MaxPool2d stride must be at least 1, got \(stride ?? 0)")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    public func forward(_ input: Tensor) -> Tensor {
        Tensor.maxPool2d(input, kernelSize: kernelSize, stride: stride)
    }

    public var configurationDescription: String {
        "\(kernelSize)x\(kernelSize)" + (stride != kernelSize ? ", stride \(stride)" : "")
    }
}
