import Checkpoint
import Collective
import DataLoading
import Foundation
import NN
import RunLog
import TensorCore
import Training

/// Evaluates a model rebuilt from a checkpoint alone (`trainer eval`).
public enum CheckpointEvaluation {
    /// Rank 0 reads and verifies `checkpoint`, every rank receives the model
    /// configuration and parameters, each evaluates its shard of the test
    /// set, and the sums are added. Returns the line to print.
    public static func run(checkpoint: String, dataset: String?, dataDirectory: String?, batchSize: Int,
                           communicator: Communicator?) throws -> String {
        let rank = communicator?.rank ?? 0, worldSize = communicator?.size ?? 1
        var header = ["", "", ""]  // model name, model_config JSON, data set name
        var state: TrainingState?
        var checkpoint = checkpoint
        if rank == 0 {
            do {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: checkpoint, isDirectory: &isDirectory), isDirectory.boolValue {
                    // A directory: the checkpoint inspect and --resume auto take.
                    let search = try CheckpointDirectory.latestValid(in: checkpoint)
                    for skipped in search.skipped { print("warning: \(skipped)") }
                    guard let found = search.checkpoint else {
                        throw TrainingError.checkpoint("--checkpoint \(checkpoint): the directory holds no valid checkpoint")
                    }
                    checkpoint = found.path
                    state = found.state
                } else {
                    state = try CheckpointFile.read(checkpoint)
                }
            } catch let error as TrainingError {
                throw error
            } catch {
                throw TrainingError.checkpoint("--checkpoint \(checkpoint): \(error)")
            }
            header = [state!.model, state!.modelConfig, state!.dataset]
        }
        if let communicator, worldSize > 1 {
            header = try header.map { try communicator.broadcast($0) }
        }
        guard ModelKind.named(header[0]) != nil else {
            throw TrainingError.checkpoint("--checkpoint \(checkpoint): it holds model '\(header[0])', which is not one of the zoo's "
                                           + "(\(ModelSpec.names.joined(separator: ", "))): trainer eval rebuilds only those; evaluate "
                                           + "a model of your own from the program that defines it: model.loadCheckpoint(path), then "
                                           + "model.evaluate(on: testSet, loss:, metrics:) (trainer inspect reads any checkpoint)")
        }
        let spec: ModelSpec
        do {
            spec = try JSONDecoder().decode(ModelSpec.self, from: Data(header[1].utf8))
            guard spec.name == header[0] else {
                throw TrainingError.checkpoint("model_config names '\(spec.name)' but the model attribute says '\(header[0])'")
            }
            try spec.validate()
        } catch {
            throw TrainingError.checkpoint("--checkpoint \(checkpoint): model_config is not a model this trainer can rebuild: \(error)")
        }
        // Before the model is allocated: a crafted model_config can ask for
        // gigabytes that the checkpoint's tensors could never fill. (The
        // estimate is generous; the exact layout is compared once built.)
        if let state, let kind = ModelKind.named(spec.name),
           case let described = kind.parameterCount(spec), described > Double(state.parameters.values.count) * 1.01 + 1024 {
            throw TrainingError.checkpoint("--checkpoint \(checkpoint): its model_config describes \(String(format: "%.0f", described)) "
                                           + "parameters but it holds \(state.parameters.values.count)")
        }
        var generator = RandomGenerator(seed: 0)
        let model = spec.build(generator: &generator)
        let parameters = ParameterSet(model)
        if let state {
            let layout = TensorLayout(names: parameters.names, shapes: parameters.tensors.map(\.shape))
            guard state.parameters.layout == layout else {
                throw TrainingError.checkpoint("--checkpoint \(checkpoint): its tensors do not match the model its model_config describes")
            }
            layout.copy(state.parameters.values, laidOutAs: state.parameters.layout, into: parameters.values.buffer)
            // BatchNorm's running statistics: what eval mode normalises with.
            let buffers = model.namedBuffers()
            guard state.buffers.layout == TensorLayout(names: buffers.map(\.name), shapes: buffers.map(\.tensor.shape)) else {
                throw TrainingError.checkpoint("--checkpoint \(checkpoint): its buffers do not match the model its model_config describes")
            }
            for (name, tensor) in buffers {
                state.buffers[name]!.withUnsafeBufferPointer { tensor.data.update(from: $0.baseAddress!, count: tensor.count) }
            }
        }
        try communicator?.broadcast(parameters.values.buffer, root: 0)
        for (_, tensor) in model.namedBuffers() {
            try communicator?.broadcast(UnsafeMutableBufferPointer(start: tensor.data, count: tensor.count), root: 0)
        }
        let name = dataset ?? header[2]
        guard DatasetCatalog.names.contains(name) else {
            throw TrainingError.invalidOption(dataset == nil ? .checkpoint : .dataset,
                                              "'\(name)' is not a catalog data set (\(DatasetCatalog.names.joined(separator: ", "))); "
                                              + "a checkpoint trained with --data is evaluated by training on with the same file "
                                              + "(trainer eval reads catalog data sets only; pass --dataset to choose one)")
        }
        let data = try DatasetCatalog.load(name: name, dataDirectory: dataDirectory)
        guard data.test.sampleShape == spec.inputShape else {
            throw TrainingError.invalidOption(.dataset, "\(name) has samples of shape \(data.test.sampleShape), the model takes \(spec.inputShape)")
        }
        try requireTargets(of: data.test, fit: spec, name: name)
        let result = try model.evaluate(on: data.test, loss: spec.objective.evaluationLoss, metrics: spec.objective.metrics,
                                        batchSize: batchSize, world: communicator.map { .communicator($0) } ?? .alone)
        var line = "\(checkpoint): \(spec.name) on \(name) test set (\(Int(result.count)) samples): test_loss \(format(result.loss, 4))"
        for (metric, _, _) in result.metrics {
            line += " test_\(metric) \(format(result.value(of: metric) ?? .nan, metric == "accuracy" ? 4 : 5))"
        }
        return line
    }

    /// Refuses a test set whose targets the model cannot be scored on: the
    /// loss would index past the model's outputs (a label of class 9 for a
    /// model of 5 classes) or read targets that are not there (labels for a
    /// model that regresses), which is a trap, not an answer.
    private static func requireTargets(of test: any Dataset, fit spec: ModelSpec, name: String) throws {
        switch spec.task {
        case .reconstruct:
            return
        case .regress:
            guard test.targetSize == spec.classes else {
                throw TrainingError.invalidOption(.dataset, "\(name) has " + (test.targetShape.isEmpty ? "class labels"
                                                  : "targets of shape \(test.targetShape)") + "; the checkpoint's model regresses "
                                                  + "\(spec.classes) float target(s)")
            }
        case .classify:
            guard test.targetShape.isEmpty else {
                throw TrainingError.invalidOption(.dataset, "\(name) has float targets of shape \(test.targetShape); the "
                                                  + "checkpoint's model classifies into \(spec.classes) classes")
            }
            var sample = [Float](repeating: 0, count: max(test.sampleSize, 1))
            for index in 0..<test.count {
                let label = sample.withUnsafeMutableBufferPointer { test.copySample(at: index, into: $0.baseAddress!) }
                guard (0..<Int32(clamping: spec.classes)).contains(label) else {
                    throw TrainingError.invalidOption(.dataset, "\(name): test sample \(index) has label \(label), but the "
                                                      + "checkpoint's model has \(spec.classes) classes (0 to \(spec.classes - 1))")
                }
            }
        }
    }
}
