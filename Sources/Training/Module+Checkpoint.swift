import Checkpoint
import DataLoading
import NN
import TensorCore

/// A checkpoint into a model of your own, and that model evaluated: what
/// `trainer eval` does for the zoo's models, from the program that defines
/// yours (PyTorch: `model.load_state_dict(...)`, then `model.eval()` and a
/// loop over a test loader).
extension Module {
    /// Copies the parameters and buffers of the checkpoint at `path` into
    /// this model, by name, as `loadStateDict(strict: true)`: a missing or
    /// unexpected tensor, or one of another shape, is an error naming them
    /// and the file, and then nothing is copied. The checkpoint's checksums
    /// are verified first.
    public func loadCheckpoint(_ path: String) throws {
        let state: TrainingState
        do {
            state = try CheckpointFile.read(path)
        } catch {
            throw TrainingError.checkpoint("\(path): \(error)")
        }
        var tensors: [String: Tensor] = [:]
        for flat in [state.parameters, state.buffers] {
            for (index, name) in flat.layout.names.enumerated() {
                tensors[name] = Tensor(shape: flat.layout.shapes[index], values: Array(flat.values[flat.layout.range(of: index)]))
            }
        }
        do {
            try loadStateDict(tensors)
        } catch {
            throw TrainingError.checkpoint("\(path) (model '\(state.model)') does not fit this model: \(error)")
        }
    }

    /// The loss and `metrics` of this model on all of `dataset`, in eval
    /// mode (Dropout off, BatchNorm on its running estimates) and without
    /// gradients, in chunks of `batchSize` samples; under `world`'s ranks
    /// each takes a share and the figures are the same bits at any world
    /// size, as the trainer's own evaluation.
    public func evaluate(on dataset: any Dataset, loss: Loss, metrics: [Metric] = [], batchSize: Int = 1000,
                         world: World = .alone) throws -> EvaluationResult {
        guard batchSize >= 1 else { throw TrainingError.invalidOption(.evaluateBatchSize, "must be at least 1, got \(batchSize)") }
        eval()
        defer { train() }
        return try Training.evaluate(self, objective: Objective(loss: loss, evaluationLoss: loss, metrics: metrics),
                                     dataset: dataset, chunkSize: batchSize, communicator: try world.resolve())
    }
}
