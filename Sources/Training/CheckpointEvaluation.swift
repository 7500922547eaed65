import Checkpoint
import Collective
import DataLoading
import Foundation
import NN
import TensorCore

/// Evaluates a model rebuilt from a checkpoint alone (`trainer eval`).
public enum CheckpointEvaluation {
    /// Rank 0 reads and verifies `checkpoint`, every rank receives the model
    /// configuration and parameters, each evaluates its shard of the test
    /// set, and the sums are added. Returns the line to print.
    public static func run(checkpoint: String, dataset: String?, dataDirectory: String?, batchSize: Int,
                           communicator: Communicator?) throws -> String {
        let rank = communicator?.rank ?? 0, worldSize = communicator?.size ?? 1
        var header = ["", ""]  // model_config JSON, data set name
        var state: TrainingState?
        if rank == 0 {
            do {
                state = try CheckpointFile.read(checkpoint)
            } catch {
                throw TrainingError.checkpoint("--checkpoint \(checkpoint): \(error)")
            }
            header = [state!.modelConfig, state!.dataset]
        }
        if let communicator, worldSize > 1 {
            header = [try communicator.broadcast(header[0]), try communicator.broadcast(header[1])]
        }
        let spec: ModelSpec
        do {
            spec = try JSONDecoder().decode(ModelSpec.self, from: Data(header[0].utf8))
        } catch {
            throw TrainingError.checkpoint("--checkpoint \(checkpoint): model_config is not a model this trainer knows: \(error)")
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
        }
        try communicator?.broadcast(parameters.values.buffer, root: 0)
        let name = dataset ?? header[1]
        let data = try DatasetCatalog.load(name: name, dataDirectory: dataDirectory)
        guard data.test.sampleShape == spec.inputShape else {
            throw TrainingError.invalidOption("--dataset", "\(name) has samples of shape \(data.test.sampleShape), the model takes \(spec.inputShape)")
        }
        let result = try evaluate(model, objective: spec.objective, dataset: data.test, chunkSize: batchSize,
                                  communicator: communicator)
        var line = "\(checkpoint): \(spec.name) on \(name) test set (\(Int(result.count)) samples): test_loss \(format(result.loss, 4))"
        switch spec.task {
        case .classify: line += " test_accuracy \(format(result.accuracy, 4))"
        case .reconstruct: line += " test_mse \(format(result.meanSquaredError, 5))"
        }
        return line
    }
}
