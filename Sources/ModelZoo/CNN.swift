import NN
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
///
/// With `batchNorm` (the zoo's `cnn-bn`), a BatchNorm2d follows each
/// convolution: conv -> BN -> ReLU -> pool. Its state dict is that of
///
///     class CNNBatchNorm(nn.Module):
///         def __init__(self):
///             super().__init__()
///             self.conv1 = nn.Conv2d(1, 8, 5)
///             self.bn1 = nn.BatchNorm2d(8)
///             self.pool = nn.MaxPool2d(2)
///             self.conv2 = nn.Conv2d(8, 16, 5)
///             self.bn2 = nn.BatchNorm2d(16)
///             self.fc = nn.Linear(256, 10)
///
///         def forward(self, x):
///             x = self.pool(F.relu(self.bn1(self.conv1(x))))
///             x = self.pool(F.relu(self.bn2(self.conv2(x))))
///             return self.fc(torch.flatten(x, 1))
///
/// in that order: `conv1.weight`, `conv1.bias`, `bn1.weight` [8], `bn1.bias`,
/// `bn1.running_mean` [8], `bn1.running_var`, `bn1.num_batches_tracked` [],
/// `conv2.*`, `bn2.*` (16 channels), `fc.*`. The BatchNorms add 2 * (8 + 16)
/// = 48 parameters (6,042 in all for 1x28x28 inputs) and 50 buffer elements.
public final class CNN: Module {
    public let conv1: Conv2d
    /// BatchNorm2d(8) after conv1, nil without `batchNorm`.
    public let bn1: BatchNorm2d?
    public let pool = MaxPool2d(2)
    public let conv2: Conv2d
    /// BatchNorm2d(16) after conv2, nil without `batchNorm`.
    public let bn2: BatchNorm2d?
    public let fc: Linear
    private let relu = ReLU()
    private let flatten = Flatten()

    /// - Parameters:
    ///   - inputShape: one sample's [channels, height, width].
    ///   - batchNorm: a BatchNorm2d after each convolution (`cnn-bn`); it
    ///     draws nothing from `generator`, so the other layers start as `cnn`'s.
    public init(inputShape: [Int] = [1, 28, 28], classes: Int = 10, batchNorm: Bool = false,
                generator: inout RandomGenerator) {
        let features = ConvolutionStages.flattenedSize(inputShape, outChannels: 16, kernelSize: 5)
        conv1 = Conv2d(inputShape[0], 8, 5, generator: &generator)
        bn1 = batchNorm ? BatchNorm2d(8) : nil
        conv2 = Conv2d(8, 16, 5, generator: &generator)
        bn2 = batchNorm ? BatchNorm2d(16) : nil
        fc = Linear(features, classes, generator: &generator)
    }

    public func forward(_ input: Tensor) -> Tensor {
        var x = pool(relu(normalized(conv1(input), bn1)))
        x = pool(relu(normalized(conv2(x), bn2)))
        return fc(flatten(x))
    }

    /// `x` through `batchNorm` when there is one.
    private func normalized(_ x: Tensor, _ batchNorm: BatchNorm2d?) -> Tensor { batchNorm.map { $0(x) } ?? x }

    public var children: [(name: String, module: any Module)] {
        let layers: [(String, (any Module)?)] = [("conv1", conv1), ("bn1", bn1), ("pool", pool), ("conv2", conv2),
                                                 ("bn2", bn2), ("fc", fc)]
        return layers.compactMap { name, module in module.map { (name, $0) } }
    }
}

/// Sizes of the two conv(k) -> pool(2) stages that CNN and LeNet share.
package enum ConvolutionStages {
    /// The number of features after conv(k) -> pool(2) -> conv(k) -> pool(2)
    /// with `outChannels` channels at the end, for one sample of `inputShape`
    /// ([channels, height, width]).
    package static func flattenedSize(_ inputShape: [Int], outChannels: Int, kernelSize: Int) -> Int {
        ensure(inputShape.count == 3, "Expected an input shape [channels, height, width], got \(inputShape)")
        func stage(_ n: Int) -> Int { (n - kernelSize + 1) / 2 }
        let (h, w) = (stage(stage(inputShape[1])), stage(stage(inputShape[2])))
        ensure(h >= 1 && w >= 1, "Input \(inputShape) is too small for two \(kernelSize)x\(kernelSize) conv + 2x2 pool stages")
        return outChannels * h * w
    }
}
