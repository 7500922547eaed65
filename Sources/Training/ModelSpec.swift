import NN
import TensorCore

/// What a model learns to do, which decides its loss and its metrics.
public enum ModelTask: String, Sendable, Codable, CaseIterable {
    /// Predict the class label: cross-entropy, accuracy.
    case classify
    /// Reproduce the input image: BCE (or MSE) on pixels.
    case reconstruct
}

/// The training loss of a reconstruction model (evaluation reports both).
public enum ReconstructionLoss: String, Sendable, Codable, CaseIterable {
    /// Binary cross-entropy of the output probabilities against the pixels.
    case bce
    /// Mean squared error against the pixels.
    case mse
}

/// A named model and every option needed to rebuild it, so a checkpoint can
/// record it (as JSON) and `trainer eval` can rebuild the model from it alone.
///
/// The models (`trainer train --model NAME`; each options' flag in brackets):
/// - `softmax`: Flatten -> Linear(784, 10).
/// - `mlp` [`--hidden`]: Flatten -> Linear(784, hidden) -> ReLU -> Linear(hidden, 10).
/// - `cnn`: `CNN`, two conv/pool stages and Linear(256, 10).
/// - `lenet`: `LeNet`, the CIFAR-10 tutorial network.
/// - `autoencoder` [`--latent`, `--loss`]: `AutoEncoder`, 784 -> latent -> 784.
/// - `tied-autoencoder` [`--latent`, `--loss`]: `TiedAutoEncoder`, decoder weight = encoder's transposed.
/// - `deep-autoencoder` [`--layers`, `--loss`]: `DeepAutoEncoder`, 784 -> 500 -> 100 -> 30 and back.
/// - `highway` [`--depth`, `--hidden`, `--task`; `--latent`, `--loss` when reconstructing]:
///   `HighwayClassifier` or `HighwayAutoEncoder`, highway layers of width `hidden`.
/// Input sizes follow `inputShape` (set from the data set by the trainer).
public struct ModelSpec: Sendable, Codable, Equatable {
    /// The models `trainer train --model` knows.
    public static let names = ["softmax", "mlp", "cnn", "lenet", "autoencoder", "tied-autoencoder",
                               "deep-autoencoder", "highway"]

    public var name: String
    /// Hidden width of `mlp`, and the width of `highway`'s layers.
    public var hidden: Int
    /// Shape of one input sample, e.g. [1, 28, 28].
    public var inputShape: [Int]
    /// Number of classes for classifiers.
    public var classes: Int
    /// Code size of `autoencoder`, `tied-autoencoder` and `highway --task reconstruct`.
    public var latent: Int
    /// Encoder widths of `deep-autoencoder`, input side first (the decoder mirrors them).
    public var layers: [Int]
    /// Number of highway layers of `highway` (in each of encoder and decoder when reconstructing).
    public var depth: Int
    /// Classify or reconstruct; fixed by the model except for `highway`.
    public var task: ModelTask
    /// Training loss when reconstructing.
    public var loss: ReconstructionLoss

    /// - Parameter task: nil for the model's own task (`classify` for
    ///   `highway`); only `highway` accepts both.
    public init(name: String, hidden: Int = 128, inputShape: [Int] = [1, 28, 28], classes: Int = 10,
                latent: Int = 64, layers: [Int] = [500, 100, 30], depth: Int = 3, task: ModelTask? = nil,
                loss: ReconstructionLoss = .bce) {
        self.name = name
        self.hidden = hidden
        self.inputShape = inputShape
        self.classes = classes
        self.latent = latent
        self.layers = layers
        self.depth = depth
        self.task = task ?? ModelSpec.fixedTask(of: name) ?? .classify
        self.loss = loss
    }

    /// The task a model always has; nil when it can do either (`highway`).
    public static func fixedTask(of name: String) -> ModelTask? {
        switch name {
        case "autoencoder", "tied-autoencoder", "deep-autoencoder": .reconstruct
        case "highway": nil
        default: .classify
        }
    }

    /// Checks the options; the error names the flag and what is wrong.
    public func validate() throws {
        guard ModelSpec.names.contains(name) else {
            throw TrainingError.invalidOption("--model", "unknown model '\(name)'; known models: \(ModelSpec.names.joined(separator: ", "))")
        }
        if hidden <= 0 { throw TrainingError.invalidOption("--hidden", "must be positive, got \(hidden)") }
        if latent <= 0 { throw TrainingError.invalidOption("--latent", "must be positive, got \(latent)") }
        if depth <= 0 { throw TrainingError.invalidOption("--depth", "must be positive, got \(depth)") }
        if layers.isEmpty || layers.contains(where: { $0 <= 0 }) {
            throw TrainingError.invalidOption("--layers", "needs one or more positive widths, got \(layers.map(String.init).joined(separator: ","))")
        }
        if let fixed = ModelSpec.fixedTask(of: name), task != fixed {
            throw TrainingError.invalidOption("--task", "model \(name) can only \(fixed.rawValue); --task applies to highway")
        }
        if task == .classify && loss != .bce {
            throw TrainingError.invalidOption("--loss", "applies to reconstruction models; \(name) classifies with cross-entropy")
        }
        if inputShape.count != 3 || inputShape.contains(where: { $0 <= 0 }) {
            throw TrainingError.invalidOption("--dataset", "models need samples of [channels, height, width], got \(inputShape)")
        }
        if ["cnn", "lenet"].contains(name) && (inputShape[1] < 16 || inputShape[2] < 16) {
            throw TrainingError.invalidOption("--model", "\(name) needs images of at least 16x16, got \(inputShape[1])x\(inputShape[2])")
        }
    }

    /// `--layers 500,100,30` as widths; the error names the flag.
    public static func parseLayers(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let widths = parts.map { Int(String($0.filter { !$0.isWhitespace })) }
        guard !parts.isEmpty, widths.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw TrainingError.invalidOption("--layers", "expected positive widths separated by commas (e.g. 500,100,30), got '\(text)'")
        }
        return widths.map { $0! }
    }

    /// Number of input features of one sample.
    public var inputFeatures: Int { inputShape.reduce(1, *) }

    /// Builds the model with parameters drawn from `generator`.
    public func build(generator: inout RandomGenerator) -> any Module {
        switch name {
        case "softmax":
            return Sequential(Flatten(), Linear(inputFeatures, classes, generator: &generator))
        case "cnn":
            return CNN(inputShape: inputShape, classes: classes, generator: &generator)
        case "lenet":
            return LeNet(inputShape: inputShape, classes: classes, generator: &generator)
        case "autoencoder":
            return AutoEncoder(inputFeatures: inputFeatures, latent: latent, generator: &generator)
        case "tied-autoencoder":
            return TiedAutoEncoder(inputFeatures: inputFeatures, latent: latent, generator: &generator)
        case "deep-autoencoder":
            return DeepAutoEncoder(inputFeatures: inputFeatures, layers: layers, generator: &generator)
        case "highway":
            switch task {
            case .classify:
                return HighwayClassifier(inputFeatures: inputFeatures, width: hidden, depth: depth, classes: classes,
                                         generator: &generator)
            case .reconstruct:
                return HighwayAutoEncoder(inputFeatures: inputFeatures, width: hidden, depth: depth, latent: latent,
                                          generator: &generator)
            }
        default: // "mlp"
            return Sequential(Flatten(),
                              Linear(inputFeatures, hidden, generator: &generator),
                              ReLU(),
                              Linear(hidden, classes, generator: &generator))
        }
    }
}

extension ModelSpec {
    private enum CodingKeys: String, CodingKey {
        case name, hidden, inputShape, classes, latent, layers, depth, task, loss
    }

    /// Decodes a spec; options missing from the JSON (a checkpoint written
    /// before they existed) take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ModelSpec(name: try c.decode(String.self, forKey: .name))
        self.init(name: defaults.name,
                  hidden: try c.decodeIfPresent(Int.self, forKey: .hidden) ?? defaults.hidden,
                  inputShape: try c.decodeIfPresent([Int].self, forKey: .inputShape) ?? defaults.inputShape,
                  classes: try c.decodeIfPresent(Int.self, forKey: .classes) ?? defaults.classes,
                  latent: try c.decodeIfPresent(Int.self, forKey: .latent) ?? defaults.latent,
                  layers: try c.decodeIfPresent([Int].self, forKey: .layers) ?? defaults.layers,
                  depth: try c.decodeIfPresent(Int.self, forKey: .depth) ?? defaults.depth,
                  task: try c.decodeIfPresent(ModelTask.self, forKey: .task),
                  loss: try c.decodeIfPresent(ReconstructionLoss.self, forKey: .loss) ?? defaults.loss)
    }
}

extension ModelSpec {
    /// What the zoo model trains on and reports: cross-entropy and accuracy
    /// for classifiers; BCE (or MSE with `--loss mse`) on the pixels for
    /// reconstruction, evaluated as BCE with the pixel MSE beside it
    /// whatever it trains on, so runs with either loss compare.
    var objective: Objective {
        switch (task, loss) {
        case (.classify, _):
            Objective(loss: .crossEntropy, evaluationLoss: .crossEntropy, metrics: [.accuracy])
        case (.reconstruct, .bce):
            Objective(loss: .reconstructionBCE, evaluationLoss: .reconstructionBCE, metrics: [.reconstructionMSE])
        case (.reconstruct, .mse):
            Objective(loss: .reconstructionMSE, evaluationLoss: .reconstructionBCE, metrics: [.reconstructionMSE])
        }
    }
}
