import TensorCore

/// The course's Fashion-MNIST convolutional network:
/// Conv2d(1, 8, 5) -> ReLU -> MaxPool2d(2) -> Conv2d(8, 16, 5) -> ReLU -> MaxPool2d(2)
/// -> Flatten -> Linear(256, 10).
///
/// Parameter names (PyTorch state_dict keys): `conv1.weight` [8, 1, 5, 5],
/// `conv1.bias` [8], `conv2.weight` [16, 8, 5, 5], `conv2.bias` [16],
/// `fc.weight` [10, 256], `fc.bias` [10]: 208 + 3,216 + 2,570 = 5,994 parameters for
/// 1x28x28 inputs.
/// Other image sizes work too: conv1 takes `inputShape[0]` channels and fc's
/// width is 16 times the spatial size left after the two stages.
public final class CNN: Module {
    public let conv1: Conv2d
    public let pool = MaxPool2d(2)
    public let conv2: Conv2d
    public let fc: Linear
    private let relu = ReLU()
    private let flatten = Flatten()

    /// - Parameter inputShape: one sample's [channels, height, width].
    public init(inputShape: [Int] = [1, 28, 28], classes: Int = 10, generator: inout RandomGenerator) {
        let features = ConvolutionStages.flattenedSize(inputShape, outChannels: 16, kernelSize: 5)
        conv1 = Conv2d(inputShape[0], 8, 5, generator: &generator)
        conv2 = Conv2d(8, 16, 5, generator: &generator)
        fc = Linear(features, classes, generator: &generator)
    }

    public func forward(_ input: Tensor) -> Tensor {
        var x = pool(relu(conv1(input)))
        x = pool(relu(conv2(x)))
        return fc(flatten(x))
    }

    public var children: [(name: String, module: any Module)] {
        [("conv1", conv1), ("pool", pool), ("conv2", conv2), ("fc", fc)]
    }
}

/// Sizes of the two conv(k) -> pool(2) stages that CNN and LeNet share.
package enum ConvolutionStages {
    /// The number of features after conv(k) -> pool(2) -> conv(k) -> pool(2)
    /// with `outChannels` channels at the end, for one sample of `inputShape`
    /// ([channels, height, width]).
    package static func flattenedSize(_ inputShape: [Int], outChannels: Int, kernelSize: Int) -> Int {
        precondition(inputShape.count == 3, "Expected an input shape [channels, height, width], got \(inputShape)")
        func stage(_ n: Int) -> Int { (n - kernelSize + 1) / 2 }
        let (h, w) = (stage(stage(inputShape[1])), stage(stage(inputShape[2])))
        precondition(h >= 1 && w >= 1, "Input \(inputShape) is too small for two \(kernelSize)x\(kernelSize) conv + 2x2 pool stages")
        return outChannels * h * w
    }
}
