import TensorCore

/// What a loss or a metric sees of a batch besides the model's output.
public struct BatchTargets {
    /// The model's input, `[n] + sampleShape` (a reconstruction compares against it).
    public let input: Tensor
    /// One class label per sample (-1 where the data set has none).
    public let labels: [Int32]
    /// Float targets `[n] + targetShape`; nil when the data set has none.
    public let targets: Tensor?

    public init(input: Tensor, labels: [Int32], targets: Tensor?) {
        self.input = input
        self.labels = labels
        self.targets = targets
    }

    /// The float targets, or the error a loss that needs them reports.
    public func requireTargets(_ who: String) -> Tensor {
        guard let targets else {
            preconditionFailure("\(who) needs float targets: the data set's targetShape is [] (use a loss on labels or on the input)")
        }
        return targets
    }
}
