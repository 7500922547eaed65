import Collective
import DataLoading
import Foundation
import NN
import TensorCore
import Training

/// `trainer train`'s road into the `Trainer`: a zoo model built from its
/// `ModelSpec`, trained by the same initialiser as a user's own model.
extension Trainer {
    /// A zoo model (`configuration.model`) on a catalog data set (or `data`),
    /// as `trainer train` runs it.
    public convenience init(configuration: TrainingConfiguration, data: DatasetSplits? = nil,
                            communicator: Communicator? = nil, showProgress: Bool = true) throws {
        try configuration.validate()
        let data = try data ?? DatasetCatalog.load(name: configuration.dataset, dataDirectory: configuration.dataDirectory)
        var options = configuration.options
        options.checkpointDirectory = configuration.resolvedCheckpointDirectory
        try self.init(zoo: configuration.model, train: data.train, evaluation: data.test, options: options,
                      datasetName: configuration.dataset, note: data.note,
                      world: communicator.map { .communicator($0) } ?? .alone, showProgress: showProgress)
    }

    /// A zoo model on any data set: the model is built from the seed, its
    /// input shape taken from `train`; its loss and metrics follow its task.
    public convenience init(zoo spec: ModelSpec, train: any Dataset, evaluation: any Dataset, options: TrainingOptions,
                            datasetName: String, note: String? = nil, world: World = .automatic,
                            showProgress: Bool = true) throws {
        var spec = spec
        spec.inputShape = train.sampleShape
        try spec.validate()  // against the data set's sample shape
        if spec.task == .regress && train.targetShape.isEmpty {
            throw TrainingError.invalidOption(.task, "regress needs float targets (a --data file whose y is [N, k]); \(datasetName) has class labels")
        }
        var generator = RandomGenerator(seed: options.seed)
        let model = spec.build(generator: &generator)
        var options = options
        if options.checkpointDirectory == nil { options.checkpointDirectory = "runs/\(spec.name)" }
        let objective = spec.objective
        try self.init(model: model, identity: ModelIdentity(name: spec.name, config: spec), train: train,
                      evaluation: evaluation, loss: objective.loss, evaluationLoss: objective.evaluationLoss,
                      metrics: objective.metrics, options: options, datasetName: datasetName,
                      world: world, showProgress: showProgress)
        // Before anything the run prints: how the data set was read, when
        // that is worth knowing (a cache that could not be made).
        if let note { progress.log("note: \(note)") }
    }
}
