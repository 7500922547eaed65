import NN
import TensorCore

/// The course's CIFAR-10 network (PyTorch's CIFAR-10 tutorial `Net`):
/// Conv2d(3, 6, 5) -> ReLU -> MaxPool2d(2) -> Conv2d(6, 16, 5) -> ReLU -> MaxPool2d(2)
/// -> Flatten -> Linear(400, 120) -> ReLU -> Linear(120, 84) -> ReLU -> Linear(84, 10).
///
/// Parameter names, as the tutorial's: `conv1.weight` [6, 3, 5, 5], `conv1.bias`,
/// `conv2.weight` [16, 6, 5, 5], `conv2.bias`, `fc1.weight` [120, 400], `fc1.bias`,
/// `fc2.weight` [84, 120], `fc2.bias`, `fc3.weight` [10, 84], `fc3.bias`:
/// 62,006 parameters for 3x32x32 inputs. conv1 takes `inputShape[0]`
/// channels and fc1's width follows the image size (256 for 1x28x28).
public final class LeNet: Module {
    public let conv1: Conv2d
    public let pool = MaxPool2d(2)
    public let conv2: Conv2d
    public let fc1: Linear
    public let fc2: Linear
    public let fc3: Linear
    private let relu = ReLU()
    private let flatten = Flatten()

    /// - Parameter inputShape: one sample's [channels, height, width].
    public init(inputShape: [Int] = [3, 32, 32], classes: Int = 10, generator: inout RandomGenerator) {
        let features = ConvolutionStages.flattenedSize(inputShape, outChannels: 16, kernelSize: 5)
        conv1 = Conv2d(inputShape[0], 6, 5, generator: &generator)
        conv2 = Conv2d(6, 16, 5, generator: &generator)
        fc1 = Linear(features, 120, generator: &generator)
        fc2 = Linear(120, 84, generator: &generator)
        fc3 = Linear(84, classes, generator: &generator)
    }

    public func forward(_ input: Tensor) -> Tensor {
        var x = pool(relu(conv1(input)))
        x = pool(relu(conv2(x)))
        x = relu(fc1(flatten(x)))
        x = relu(fc2(x))
        return fc3(x)
    }

    public var children: [(name: String, module: any Module)] {
        [("conv1", conv1), ("pool", pool), ("conv2", conv2), ("fc1", fc1), ("fc2", fc2), ("fc3", fc3)]
    }
}
