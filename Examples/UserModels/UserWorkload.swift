import NN
import TensorCore

/// A user-shaped model for `trainer bench` and `scripts/torch-bench.py`:
/// how to build it, what it reads, and the arithmetic of one training step.
public struct UserWorkload: Sendable {
    /// The bench workload's name (`user-cnn`, ...); the PyTorch script uses the same.
    public let name: String
    /// One sample's shape: [1, 28, 28] is Fashion-MNIST as it is;
    /// [3, 32, 32] reads it through `CIFARShaped`.
    public let inputShape: [Int]
    /// Floating-point operations of one sample's training step, counting a
    /// multiply-add as two and only the convolutions' and matrix products'
    /// (forward, weight gradient, and input gradient where the input needs
    /// one), as a direct convolution computes them: what the sgemm rate
    /// bounds for the direct kernels. The 3x3 layers that run on Winograd's
    /// F(2x2, 3x3) do 2.25 times fewer products than counted, so a model's
    /// rate against sgemm's can pass 1.
    public let trainingFLOPsPerSample: Double
    /// Builds the model with its initial parameters, with or without its
    /// BatchNorm layers (the recurrent model has none).
    public let build: @Sendable (_ generator: inout RandomGenerator, _ batchNorm: Bool) -> any Module

    /// The user-shaped workloads, in the order the bench runs them.
    public static let all: [UserWorkload] = [
        UserWorkload(name: "user-cnn", inputShape: [1, 28, 28],
                     trainingFLOPsPerSample: cifarStyleFLOPs([1, 28, 28])) {
            cifarStyleCNN(inputShape: [1, 28, 28], batchNorm: $1, generator: &$0)
        },
        UserWorkload(name: "user-cnn32", inputShape: CIFARShaped.shape,
                     trainingFLOPsPerSample: cifarStyleFLOPs([3, 32, 32])) {
            cifarStyleCNN(inputShape: CIFARShaped.shape, batchNorm: $1, generator: &$0)
        },
        UserWorkload(name: "user-strided", inputShape: [1, 28, 28],
                     trainingFLOPsPerSample: stridedFLOPs([1, 28, 28])) {
            stridedCNN(inputShape: [1, 28, 28], batchNorm: $1, generator: &$0)
        },
        UserWorkload(name: "user-rnn", inputShape: [1, 28, 28],
                     trainingFLOPsPerSample: elmanFLOPs(steps: 28, inputSize: 28, hidden: 64, classes: 10)) { generator, _ in
            ElmanClassifier(inputShape: [1, 28, 28], hiddenSize: 64, generator: &generator)
        },
        UserWorkload(name: "user-gru", inputShape: [1, 28, 28],
                     trainingFLOPsPerSample: elmanFLOPs(steps: 28, inputSize: 28, hidden: 64, classes: 10,
                                                        gates: 3)) { generator, _ in
            GRUClassifier(inputShape: [1, 28, 28], hiddenSize: 64, generator: &generator)
        },
    ]

    /// The workload named `name`, or nil.
    public static func named(_ name: String) -> UserWorkload? { all.first { $0.name == name } }
}

/// A training step's FLOPs for a product of `macs` multiply-adds per sample:
/// forward and weight gradient, and the input gradient unless the input is
/// the data itself.
private func trainingFLOPs(macs: Int, inputNeedsGradient: Bool = true) -> Double {
    Double(2 * macs * (inputNeedsGradient ? 3 : 2))
}

/// Multiply-adds of a k x k convolution from `inChannels` to `outChannels`
/// with an `outputSize` (height, width) output.
private func convolutionMACs(_ inChannels: Int, _ outChannels: Int, kernel: Int, outputSize: (Int, Int)) -> Int {
    inChannels * kernel * kernel * outChannels * outputSize.0 * outputSize.1
}

private func cifarStyleFLOPs(_ shape: [Int]) -> Double {
    let (c, h, w) = (shape[0], shape[1], shape[2])
    return trainingFLOPs(macs: convolutionMACs(c, 32, kernel: 3, outputSize: (h, w)), inputNeedsGradient: false)
        + trainingFLOPs(macs: convolutionMACs(32, 32, kernel: 3, outputSize: (h, w)))
        + trainingFLOPs(macs: convolutionMACs(32, 64, kernel: 3, outputSize: (h / 2, w / 2)))
        + trainingFLOPs(macs: 64 * (h / 4) * (w / 4) * 128)
        + trainingFLOPs(macs: 128 * 10)
}

private func stridedFLOPs(_ shape: [Int]) -> Double {
    let (c, h, w) = (shape[0], shape[1], shape[2])
    let (h2, w2) = ((h + 1) / 2, (w + 1) / 2)
    let (h4, w4) = ((h2 + 1) / 2, (w2 + 1) / 2)
    return trainingFLOPs(macs: convolutionMACs(c, 32, kernel: 3, outputSize: (h, w)), inputNeedsGradient: false)
        + trainingFLOPs(macs: convolutionMACs(32, 64, kernel: 3, outputSize: (h2, w2)))
        + trainingFLOPs(macs: convolutionMACs(64, 128, kernel: 3, outputSize: (h4, w4)))
        + trainingFLOPs(macs: 128 * h4 * w4 * 10)
}

/// An Elman RNN's (`gates` 1) or a GRU's (3) matrix products over `steps`.
private func elmanFLOPs(steps: Int, inputSize: Int, hidden: Int, classes: Int, gates: Int = 1) -> Double {
    Double(steps) * (trainingFLOPs(macs: inputSize * gates * hidden, inputNeedsGradient: false)
                     + trainingFLOPs(macs: hidden * gates * hidden))
        + trainingFLOPs(macs: hidden * classes)
}
