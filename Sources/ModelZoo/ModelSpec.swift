import Foundation
import NN
import TensorCore
import Training

/// What a model learns to do, which decides its loss and its metrics.
public enum ModelTask: String, Sendable, Codable, CaseIterable {
    /// Predict the class label: cross-entropy, accuracy.
    case classify
    /// Reproduce the input image: BCE (or MSE) on pixels.
    case reconstruct
    /// Predict the float targets (`classes` of them): MSE.
    case regress
}

/// Weights and biases of Linear(inputs, outputs).
private func linear(_ inputs: Double, _ outputs: Double) -> Double { inputs * outputs + outputs }

/// The parameters of `CNN` without BatchNorm.
@Sendable private func cnnParameterCount(_ spec: ModelSpec) -> Double {
    let flat = Double(ConvolutionStages.flattenedSize(spec.inputShape, outChannels: 16, kernelSize: 5))
    return linear(Double(spec.inputShape[0]) * 25, 8) + linear(8 * 25, 16) + linear(flat, spec.outputs)
}

/// Weight and bias of `cnn-bn`'s BatchNorm2d(8) and BatchNorm2d(16).
private let cnnBatchNormParameters: Double = 2 * (8 + 16)
/// Their running mean, running variance and num_batches_tracked: buffers, not parameters.
private let cnnBatchNormBuffers: Double = (8 + 8 + 1) + (16 + 16 + 1)

extension ModelSpec {
    fileprivate var features: Double { inputShape.reduce(1.0) { $0 * Double($1) } }
    fileprivate var outputs: Double { Double(classes) }
}

/// One zoo model: its name, the tasks it can learn, the flags that shape it
/// and how to build it. A new model is one entry of `ModelKind.all`.
public struct ModelKind: Sendable {
    public let name: String
    /// The tasks it can learn; the first is its default.
    public let tasks: [ModelTask]
    /// The options it reads (`OptionKey.flag`: the `trainer train` flags), for help and summaries.
    public let options: [OptionKey]
    /// How many parameters it will have, computed without allocating them,
    /// so that options too large for memory are refused before building.
    let parameterCount: @Sendable (ModelSpec) -> Double
    /// How many buffer elements (BatchNorm's running statistics) it will
    /// have: no gradient or optimizer state, but memory all the same.
    fileprivate let bufferCount: @Sendable (ModelSpec) -> Double
    fileprivate let build: @Sendable (ModelSpec, inout RandomGenerator) -> any Module

    fileprivate init(name: String, tasks: [ModelTask], options: [OptionKey], parameterCount: @escaping @Sendable (ModelSpec) -> Double,
                     bufferCount: @escaping @Sendable (ModelSpec) -> Double = { _ in 0 },
                     build: @escaping @Sendable (ModelSpec, inout RandomGenerator) -> any Module) {
        (self.name, self.tasks, self.options, self.parameterCount, self.bufferCount, self.build)
            = (name, tasks, options, parameterCount, bufferCount, build)
    }

    /// Every zoo model, in the order `--help` lists them. Classifiers also
    /// regress (their `classes` outputs are the targets).
    public static let all: [ModelKind] = [
        ModelKind(name: "softmax", tasks: [.classify, .regress], options: [],
                  parameterCount: { linear($0.features, $0.outputs) }) { spec, generator in
            Sequential(Flatten(), Linear(spec.inputFeatures, spec.classes, generator: &generator))
        },
        ModelKind(name: "mlp", tasks: [.classify, .regress], options: [.hidden, .dropout],
                  parameterCount: { linear($0.features, Double($0.hidden)) + linear(Double($0.hidden), $0.outputs) }) { spec, generator in
            Sequential.mlp(inputFeatures: spec.inputFeatures, hidden: spec.hidden, classes: spec.classes,
                           dropout: Float(spec.dropout), generator: &generator)
        },
        ModelKind(name: "cnn", tasks: [.classify, .regress], options: [], parameterCount: cnnParameterCount) { spec, generator in
            CNN(inputShape: spec.inputShape, classes: spec.classes, generator: &generator)
        },
        ModelKind(name: "cnn-bn", tasks: [.classify, .regress], options: [],
                  parameterCount: { cnnParameterCount($0) + cnnBatchNormParameters },
                  bufferCount: { _ in cnnBatchNormBuffers }) { spec, generator in
            CNN(inputShape: spec.inputShape, classes: spec.classes, batchNorm: true, generator: &generator)
        },
        ModelKind(name: "lenet", tasks: [.classify, .regress], options: [],
                  parameterCount: { spec in
                      let flat = Double(ConvolutionStages.flattenedSize(spec.inputShape, outChannels: 16, kernelSize: 5))
                      return linear(Double(spec.inputShape[0]) * 25, 6) + linear(6 * 25, 16) + linear(flat, 120) + linear(120, 84)
                          + linear(84, spec.outputs)
                  }) { spec, generator in
            LeNet(inputShape: spec.inputShape, classes: spec.classes, generator: &generator)
        },
        ModelKind(name: "autoencoder", tasks: [.reconstruct], options: [.latent, .loss],
                  parameterCount: { linear($0.features, Double($0.latent)) + linear(Double($0.latent), $0.features) }) { spec, generator in
            AutoEncoder(inputFeatures: spec.inputFeatures, latent: spec.latent, generator: &generator)
        },
        ModelKind(name: "tied-autoencoder", tasks: [.reconstruct], options: [.latent, .loss],
                  parameterCount: { linear($0.features, Double($0.latent)) + $0.features }) { spec, generator in
            TiedAutoEncoder(inputFeatures: spec.inputFeatures, latent: spec.latent, generator: &generator)
        },
        ModelKind(name: "deep-autoencoder", tasks: [.reconstruct], options: [.layers, .loss],
                  parameterCount: { spec in
                      let widths = [spec.features] + spec.layers.map(Double.init)
                      return zip(widths, widths.dropFirst()).reduce(0) { $0 + linear($1.0, $1.1) + linear($1.1, $1.0) }
                  }) { spec, generator in
            DeepAutoEncoder(inputFeatures: spec.inputFeatures, layers: spec.layers, generator: &generator)
        },
        ModelKind(name: "highway", tasks: [.classify, .reconstruct, .regress],
                  options: [.hidden, .depth, .task, .latent, .loss],
                  parameterCount: { spec in
                      let (w, layers) = (Double(spec.hidden), Double(spec.depth) * 2 * linear(Double(spec.hidden), Double(spec.hidden)))
                      return spec.task == .reconstruct
                          ? 2 * layers + linear(w, Double(spec.latent)) + linear(Double(spec.latent), w)
                              + linear(spec.features, w) + linear(w, spec.features)
                          : linear(spec.features, w) + layers + linear(w, spec.outputs)
                  }) { spec, generator in
            if spec.task == .reconstruct {
                return HighwayAutoEncoder(inputFeatures: spec.inputFeatures, width: spec.hidden, depth: spec.depth,
                                          latent: spec.latent, generator: &generator)
            }
            return HighwayClassifier(inputFeatures: spec.inputFeatures, width: spec.hidden, depth: spec.depth,
                                     classes: spec.classes, generator: &generator)
        },
    ]

    /// The models that need [channels, height, width] images of at least 16x16.
    fileprivate static let convolutional: Set<String> = ["cnn", "cnn-bn", "lenet"]

    /// The parameters of `spec`'s model, in Double so that absurd options do not overflow.
    public static func parameterCount(of spec: ModelSpec) -> Double? { named(spec.name)?.parameterCount(spec) }

    /// The entry called `name`, nil for a name the zoo does not have.
    public static func named(_ name: String) -> ModelKind? { all.first { $0.name == name } }
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
/// - `mlp` [`--hidden`, `--dropout`]: Flatten -> Linear(784, hidden) -> ReLU [-> Dropout] -> Linear(hidden, 10)
///   (`Sequential.mlp`; no Dropout layer with `--dropout 0`, the default).
/// - `cnn`: `CNN`, two conv/pool stages and Linear(256, 10).
/// - `cnn-bn`: `CNN(batchNorm: true)`, cnn with a BatchNorm2d after each convolution.
/// - `lenet`: `LeNet`, the CIFAR-10 tutorial network.
/// - `autoencoder` [`--latent`, `--loss`]: `AutoEncoder`, 784 -> latent -> 784.
/// - `tied-autoencoder` [`--latent`, `--loss`]: `TiedAutoEncoder`, decoder weight = encoder's transposed.
/// - `deep-autoencoder` [`--layers`, `--loss`]: `DeepAutoEncoder`, 784 -> 500 -> 100 -> 30 and back.
/// - `highway` [`--depth`, `--hidden`, `--task`; `--latent`, `--loss` when reconstructing]:
///   `HighwayClassifier` or `HighwayAutoEncoder`, highway layers of width `hidden`.
/// Input sizes follow `inputShape` (set from the data set by the trainer).
public struct ModelSpec: Sendable, Codable, Equatable {
    /// The models `trainer train --model` knows.
    public static var names: [String] { ModelKind.all.map(\.name) }

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
    /// Dropout probability after `mlp`'s hidden activation; 0 (the default)
    /// means no Dropout layer, and leaves the key out of the JSON, so
    /// configurations from before the option read and compare as they did.
    public var dropout: Double

    /// - Parameter task: nil for the model's own task (`classify` for
    ///   `highway`); only `highway` accepts both.
    public init(name: String, hidden: Int = 128, inputShape: [Int] = [1, 28, 28], classes: Int = 10,
                latent: Int = 64, layers: [Int] = [500, 100, 30], depth: Int = 3, task: ModelTask? = nil,
                loss: ReconstructionLoss = .bce, dropout: Double = 0) {
        self.name = name
        self.hidden = hidden
        self.inputShape = inputShape
        self.classes = classes
        self.latent = latent
        self.layers = layers
        self.depth = depth
        self.task = task ?? ModelKind.named(name)?.tasks.first ?? .classify
        self.loss = loss
        self.dropout = dropout
    }

    /// Checks the options; the error names the option and what is wrong.
    public func validate() throws {
        guard let kind = ModelKind.named(name) else {
            throw TrainingError.invalidOption(.model, "unknown model '\(name)'; known models: \(ModelSpec.names.joined(separator: ", "))")
        }
        if hidden <= 0 { throw TrainingError.invalidOption(.hidden, "must be positive, got \(hidden)") }
        if latent <= 0 { throw TrainingError.invalidOption(.latent, "must be positive, got \(latent)") }
        if depth <= 0 { throw TrainingError.invalidOption(.depth, "must be positive, got \(depth)") }
        if layers.isEmpty || layers.contains(where: { $0 <= 0 }) {
            throw TrainingError.invalidOption(.layers, "needs one or more positive widths, got \(layers.map(String.init).joined(separator: ","))")
        }
        guard kind.tasks.contains(task) else {
            throw TrainingError.invalidOption(.task, "model \(name) can \(kind.tasks.map(\.rawValue).joined(separator: " or ")), not \(task.rawValue)")
        }
        // Float(dropout) < 1 too: Dropout takes a Float, and 0.99999999 rounds to 1.
        if !dropout.isFinite || dropout < 0 || dropout >= 1 || Float(dropout) >= 1 {
            throw TrainingError.invalidOption(.dropout, "must be a probability in [0, 1), got \(dropout)")
        }
        if dropout != 0 && !kind.options.contains(.dropout) {
            throw TrainingError.invalidOption(.dropout, "applies to \(ModelKind.all.filter { $0.options.contains(.dropout) }.map(\.name).joined(separator: ", ")); "
                                              + "\(name) has no dropout")
        }
        // A shaping flag the model does not read would be accepted now and
        // refused on resume (the checkpoint's model_config records it).
        let defaults = ModelSpec(name: name)
        let shapingChanges: [(OptionKey, Bool)] = [(.hidden, hidden != defaults.hidden), (.latent, latent != defaults.latent),
                                                   (.layers, layers != defaults.layers), (.depth, depth != defaults.depth)]
        for (key, changed) in shapingChanges where changed {
            let takers = ModelKind.all.filter { $0.options.contains(key) }.map(\.name)
            if !kind.options.contains(key) {
                throw TrainingError.invalidOption(key, "applies to \(takers.joined(separator: ", "))"
                                                  + (key == .latent ? " (highway with --task reconstruct)" : "")
                                                  + "; \(name) does not use it")
            }
            if key == .latent && name == "highway" && task != .reconstruct {
                throw TrainingError.invalidOption(key, "highway uses the code size only with --task reconstruct; "
                                                  + "it \(task.rawValue == "classify" ? "classifies" : "regresses") here")
            }
        }
        if task != .reconstruct && loss != .bce {
            throw TrainingError.invalidOption(.loss, "applies to reconstruction models; \(name) learns to \(task.rawValue)")
        }
        if classes <= 0 { throw TrainingError.invalidOption(.classes, "needs at least one class or target, got \(classes)") }
        if inputShape.isEmpty || inputShape.contains(where: { $0 <= 0 }) {
            throw TrainingError.invalidOption(.inputShape, "models need samples of one or more positive dimensions, got \(inputShape)")
        }
        // A shape read from a file may be crafted: bound it before any size is computed in Int.
        let sampleValues = inputShape.reduce(1.0) { $0 * Double($1) }
        if sampleValues > Double(Int32.max) {
            throw TrainingError.invalidOption(.inputShape, "samples of shape \(inputShape) hold \(String(format: "%.3g", sampleValues)) values; "
                                              + "at most \(Int32.max) are supported")
        }
        if ModelKind.convolutional.contains(name) && inputShape.count != 3 {
            throw TrainingError.invalidOption(.model, "\(name) needs samples of [channels, height, width], got \(inputShape)")
        }
        if ModelKind.convolutional.contains(name) && (inputShape[1] < 16 || inputShape[2] < 16) {
            throw TrainingError.invalidOption(.model, "\(name) needs images of at least 16x16, got \(inputShape[1])x\(inputShape[2])")
        }
        // Before anything is allocated: per parameter its value, gradient and up
        // to two optimizer slots; per buffer element (running statistics) its
        // value; all float32.
        let count = kind.parameterCount(self), bytes = (count * 4 + kind.bufferCount(self)) * 4
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        if bytes > memory / 2 {
            let shaping = kind.options.filter { ![OptionKey.task, .loss, .dropout].contains($0) }, flags = shaping.map(\.flag)
            throw TrainingError.invalidOption(shaping.first ?? .model, "\(name) with these options has \(String(format: "%.3g", count)) parameters, "
                                              + "\(gigabytes(bytes)) GB with gradients and optimizer state, more than half of this "
                                              + "machine's \(gigabytes(memory)) GB; choose smaller \(flags.isEmpty ? "images" : flags.joined(separator: ", "))")
        }
    }

    /// `--layers 500,100,30` as widths; the error names the flag.
    public static func parseLayers(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let widths = parts.map { Int(String($0.filter { !$0.isWhitespace })) }
        guard !parts.isEmpty, widths.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw TrainingError.invalidOption(.layers, "expected positive widths separated by commas (e.g. 500,100,30), got '\(text)'")
        }
        return widths.map { $0! }
    }

    /// Number of input features of one sample.
    public var inputFeatures: Int { inputShape.reduce(1, *) }

    /// Builds the model with parameters drawn from `generator`; the spec
    /// must be valid (`validate()`), its name one of the zoo's.
    public func build(generator: inout RandomGenerator) -> any Module {
        guard let kind = ModelKind.named(name) else { preconditionFailure("build() of unknown model '\(name)'; validate() first") }
        return kind.build(self, &generator)
    }
}

/// `bytes` in GB with one decimal.
private func gigabytes(_ bytes: Double) -> String { String(format: "%.1f", bytes / 1e9) }

extension ModelSpec {
    private enum CodingKeys: String, CodingKey {
        case name, hidden, inputShape, classes, latent, layers, depth, task, loss, dropout
    }

    /// Encodes every option, `dropout` only when it is not 0 (see there).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(hidden, forKey: .hidden)
        try c.encode(inputShape, forKey: .inputShape)
        try c.encode(classes, forKey: .classes)
        try c.encode(latent, forKey: .latent)
        try c.encode(layers, forKey: .layers)
        try c.encode(depth, forKey: .depth)
        try c.encode(task, forKey: .task)
        try c.encode(loss, forKey: .loss)
        if dropout != 0 { try c.encode(dropout, forKey: .dropout) }
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
                  loss: try c.decodeIfPresent(ReconstructionLoss.self, forKey: .loss) ?? defaults.loss,
                  dropout: try c.decodeIfPresent(Double.self, forKey: .dropout) ?? defaults.dropout)
    }
}

extension ModelSpec {
    /// What the zoo model trains on and reports: cross-entropy and accuracy
    /// for classifiers; BCE (or MSE with `--loss mse`) on the pixels for
    /// reconstruction, evaluated as BCE with the pixel MSE beside it
    /// whatever it trains on, so runs with either loss compare.
    package var objective: Objective {
        switch (task, loss) {
        case (.classify, _):
            Objective(loss: .crossEntropy, evaluationLoss: .crossEntropy, metrics: [.accuracy])
        case (.reconstruct, .bce):
            Objective(loss: .reconstructionBCE, evaluationLoss: .reconstructionBCE, metrics: [.reconstructionMSE])
        case (.reconstruct, .mse):
            Objective(loss: .reconstructionMSE, evaluationLoss: .reconstructionBCE, metrics: [.reconstructionMSE])
        case (.regress, _):
            Objective(loss: .meanSquaredError, evaluationLoss: .meanSquaredError, metrics: [.meanSquaredError])
        }
    }
}
