import Checkpoint
import DataLoading
import Foundation
import ModelZoo
import NN
import TensorCore
import Testing
import Training

/// A checkpoint loaded into a model built in Swift and evaluated there, as
/// a user of their own model does it (PyTorch's `load_state_dict`).
@Suite("Loading a checkpoint into a model of your own")
final class LoadCheckpointTests {
    let scratch: URL

    init() throws { scratch = try TestSupport.temporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    @Test("loadCheckpoint then evaluate(on:) gives the figures trainer eval prints for the same checkpoint; a model of another shape is refused naming the file and the tensor, and keeps its parameters",
          .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
    func loadAndEvaluate() throws {
        let run = try RunFolder.finishedMLP(scratch, "load")
        let checkpoint = run.checkpoint(20)
        var generator = RandomGenerator(seed: 99)
        let model = ModelSpec(name: "mlp", hidden: 16).build(generator: &generator)
        try model.loadCheckpoint(checkpoint)
        #expect(model.parameters().flatMap(\.scalars) == (try CheckpointFile.read(checkpoint)).parameters.values)

        let data = try DatasetCatalog.load(name: "fashion-mnist")
        let result = try model.evaluate(on: data.test, loss: .crossEntropy, metrics: [.accuracy])
        let trainer = try #require(TestSupport.trainerExecutable)
        let eval = try TestSupport.run(trainer, ["eval", "--checkpoint", checkpoint])
        #expect(eval.status == 0, "\(eval.stderr)")
        let expected = String(format: "test_loss %.4f test_accuracy %.4f", result.loss, result.accuracy)
        #expect(eval.stdout.contains(expected), "Swift: \(expected); trainer eval: \(eval.stdout)")

        let other = ModelSpec(name: "mlp", hidden: 8).build(generator: &generator)
        let before = other.parameters().flatMap(\.scalars)
        let error = try #require(throws: TrainingError.self) { try other.loadCheckpoint(checkpoint) }
        #expect("\(error)".contains("\(checkpoint) (model 'mlp') does not fit this model"), "\(error)")
        #expect(other.parameters().flatMap(\.scalars) == before)
    }
}
