import ArgumentParser
import Collective
import DataLoading
import Foundation
import ModelZoo
import Training

/// `trainer eval --checkpoint PATH`: test loss and accuracy of a saved model,
/// rebuilt from the checkpoint alone; under mpirun the test set is sharded.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Rebuild a model from a checkpoint and print its test loss and accuracy (also under mpirun).")

    @Option(help: "The checkpoint file.")
    var checkpoint: String

    @OptionGroup(title: "Data") var source: DataOptions

    @OptionGroup var batch: BatchSizeOption

    /// `--batch-size`, the training API's evaluation batch (1000) when not given.
    var batchSize: Int { batch.resolved(default: TrainingOptions().evaluationBatchSize) }

    func run() throws {
        let communicator = try Job.communicator()
        try Job.run(communicator) {
            if batchSize < 1 || batchSize > TrainingOptions.maximumBatch {
                throw TrainingError.invalidOption(.batchSize, "must be between 1 and \(TrainingOptions.maximumBatch), got \(batchSize)")
            }
            let result = try CheckpointEvaluation.run(checkpoint: checkpoint, dataset: source.dataset, dataDirectory: source.dataDir,
                                                      batchSize: batchSize, communicator: communicator)
            if (communicator?.rank ?? 0) == 0 { print(result) }
        }
    }
}
