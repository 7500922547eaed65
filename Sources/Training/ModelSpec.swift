import NN
import TensorCore

/// What a model learns to do, which decides its loss and its metrics.
public enum Task: String, Sendable, Codable, CaseIterable {
    /// Predict the class label: cross-entropy, accuracy.
    case classify
    /// Reproduce the input image: BCE (or MSE) on pixels.
    case reconstruct
}

/// A named model and every option needed to rebuild it, so a checkpoint can
/// record it (as JSON) and `trainer eval` can rebuild the model from it alone.
public struct ModelSpec: Sendable, Codable, Equatable {
    /// The models `trainer train --model` knows.
    public static let names = ["softmax", "mlp"]

    public var name: String
    /// Hidden width of `mlp`.
    public var hidden: Int
    /// Shape of one input sample, e.g. [1, 28, 28].
    public var inputShape: [Int]
    /// Number of classes for classifiers.
    public var classes: Int

    public init(name: String, hidden: Int = 128, inputShape: [Int] = [1, 28, 28], classes: Int = 10) {
        self.name = name
        self.hidden = hidden
        self.inputShape = inputShape
        self.classes = classes
    }

    /// Checks the options; the error names the model and what is wrong.
    public func validate() throws {
        guard ModelSpec.names.contains(name) else {
            throw TrainingError.invalidOption("--model", "unknown model '\(name)'; known models: \(ModelSpec.names.joined(separator: ", "))")
        }
        if hidden <= 0 { throw TrainingError.invalidOption("--hidden", "must be positive, got \(hidden)") }
    }

    public var task: Task { .classify }

    /// Number of input features of one sample.
    public var inputFeatures: Int { inputShape.reduce(1, *) }

    /// Builds the model with parameters drawn from `generator`.
    public func build(generator: inout RandomGenerator) -> any Module {
        switch name {
        case "softmax":
            return Sequential(Flatten(), Linear(inputFeatures, classes, generator: &generator))
        default: // "mlp"
            return Sequential(Flatten(),
                              Linear(inputFeatures, hidden, generator: &generator),
                              ReLU(),
                              Linear(hidden, classes, generator: &generator))
        }
    }
}
