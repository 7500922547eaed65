import NN
import TensorCore

/// Models a new user writes against the public API, as they would in
/// PyTorch: `trainer bench` times them (the `user-*` workloads) and
/// `scripts/torch-bench.py` builds the same ones in PyTorch, so that the
/// engine's speed is measured on the shapes users write and not only on the
/// model zoo's tiny ones. Nothing here may use anything but public API.

/// The CIFAR-style CNN of the course's exercises:
///
///     Conv2d(C, 32, 3, padding: 1) -> BatchNorm2d(32) -> ReLU
///     -> Conv2d(32, 32, 3, padding: 1) -> ReLU -> MaxPool2d(2)
///     -> Conv2d(32, 64, 3, padding: 1) -> BatchNorm2d(64) -> ReLU -> MaxPool2d(2)
///     -> Flatten -> Linear(64 (H/4) (W/4), 128) -> ReLU -> Linear(128, 10)
///
/// for inputs [C, H, W] (1x28x28 Fashion-MNIST, or 3x32x32 as CIFAR's).
/// Without `batchNorm` the BatchNorm2d layers are left out (`--deterministic`
/// refuses them: their running statistics depend on how a batch is split).
public func cifarStyleCNN(inputShape: [Int], classes: Int = 10, batchNorm: Bool = true,
                          generator: inout RandomGenerator) -> Sequential {
    let (channels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
    func normalised(_ features: Int) -> [any Module] { batchNorm ? [BatchNorm2d(features)] : [] }
    return Sequential([Conv2d(channels, 32, 3, padding: 1, generator: &generator)] + normalised(32) + [ReLU(),
        Conv2d(32, 32, 3, padding: 1, generator: &generator), ReLU(), MaxPool2d(2),
        Conv2d(32, 64, 3, padding: 1, generator: &generator)] + normalised(64) + [ReLU(), MaxPool2d(2),
        Flatten(),
        Linear(64 * (height / 4) * (width / 4), 128, generator: &generator), ReLU(),
        Linear(128, classes, generator: &generator),
    ])
}

/// A CNN that downsamples with stride-2 convolutions instead of pooling:
///
///     Conv2d(C, 32, 3, padding: 1) -> BatchNorm2d(32) -> ReLU
///     -> Conv2d(32, 64, 3, stride: 2, padding: 1) -> BatchNorm2d(64) -> ReLU
///     -> Conv2d(64, 128, 3, stride: 2, padding: 1) -> ReLU
///     -> Flatten -> Linear(128 ceil(H/4) ceil(W/4), 10)
///
/// (`batchNorm` as for `cifarStyleCNN`.)
public func stridedCNN(inputShape: [Int], classes: Int = 10, batchNorm: Bool = true,
                       generator: inout RandomGenerator) -> Sequential {
    let (channels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
    let (h2, w2) = ((height + 1) / 2, (width + 1) / 2)
    let (h4, w4) = ((h2 + 1) / 2, (w2 + 1) / 2)
    func normalised(_ features: Int) -> [any Module] { batchNorm ? [BatchNorm2d(features)] : [] }
    return Sequential([Conv2d(channels, 32, 3, padding: 1, generator: &generator)] + normalised(32) + [ReLU(),
        Conv2d(32, 64, 3, stride: 2, padding: 1, generator: &generator)] + normalised(64) + [ReLU(),
        Conv2d(64, 128, 3, stride: 2, padding: 1, generator: &generator), ReLU(),
        Flatten(),
        Linear(128 * h4 * w4, classes, generator: &generator),
    ])
}
