import DataLoading
import Foundation
import ModelZoo
import NN
import TensorCore
import Testing
import Training

@Suite("Trainer on real data")
struct TrainerTests {
    @Test("MLP 784-128-10, Adam 0.001, batch 64, seed 0: >= 0.83 test accuracy after one epoch on Fashion-MNIST",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func mlpReachesTargetAccuracy() throws {
        var c = TestSupport.configuration(ModelSpec(name: "mlp", hidden: 128))
        c.threads = 1
        let trainer = try Trainer(configuration: c, showProgress: false)
        try trainer.run()
        let accuracy = try #require(trainer.records.last).test.accuracy
        #expect(accuracy >= 0.83, "test accuracy \(accuracy)")
        #expect(trainer.globalStep == 60_000 / 64)
    }

    @Test("The same seed gives bitwise the same parameters; another seed does not",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func seedMakesRunsReproducible() throws {
        let data = try DatasetCatalog.load(name: "fashion-mnist")
        func parameters(seed: UInt64) throws -> [Float] {
            var c = TestSupport.configuration(ModelSpec(name: "mlp", hidden: 32))
            c.maxSteps = 20
            c.seed = seed
            let trainer = try Trainer(configuration: c, data: data, showProgress: false)
            try trainer.run()
            return Array(trainer.parameters.values.buffer)
        }
        let a = try parameters(seed: 7), b = try parameters(seed: 7), c = try parameters(seed: 8)
        #expect(a == b)
        #expect(a != c)
    }

    @Test("A diverging run stops with an error naming the step and writes no epoch record",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func nonFiniteLossIsAnError() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = TestSupport.configuration(ModelSpec(name: "mlp", hidden: 32), directory: dir)
        c.optimizer = .sgd
        c.learningRate = 1e30
        c.maxSteps = 50
        c.metricsPath = dir.appendingPathComponent("metrics.jsonl").path
        let trainer = try Trainer(configuration: c, showProgress: false)
        #expect {
            try trainer.run()
        } throws: { error in
            String(describing: error).contains("at epoch 1, step")
        }
        let metrics = try String(contentsOfFile: c.metricsPath!, encoding: .utf8)
        #expect(!metrics.contains("\"event\":\"epoch\""))
    }

    @Test("--metrics appends one JSON object per epoch with the documented fields",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func metricsLines() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.jsonl").path
        var c = TestSupport.configuration(ModelSpec(name: "softmax"), directory: dir)
        c.epochs = 2
        c.maxSteps = 30  // 30 steps in epoch 1, then stop
        c.metricsPath = path
        try Trainer(configuration: c, showProgress: false).run()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        for key in ["event", "epoch", "step", "train_loss", "test_loss", "test_accuracy", "samples_per_s", "epoch_seconds"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["event"] as? String == "epoch")
        #expect(object["step"] as? Int == 30)
        let accuracy = try #require(object["test_accuracy"] as? Double)
        #expect(accuracy > 0.5 && accuracy <= 1)
    }

    @Test("MNIST from a directory holding only the t10k files trains on 8,000 and tests on 2,000",
          .enabled(if: TestSupport.hasSharedMNIST, "../shared/data/mnist is absent (clone the project beside shared/ to run this)"))
    func mnistTestSetSplit() throws {
        var c = TestSupport.configuration(ModelSpec(name: "mlp", hidden: 64))
        c.dataset = "mnist"
        c.dataDirectory = TestSupport.sharedMNIST
        c.epochs = 2
        let trainer = try Trainer(configuration: c, showProgress: false)
        #expect(trainer.trainSet.count == 8000)
        #expect(trainer.evaluationSet.count == 2000)
        try trainer.run()
        #expect(try #require(trainer.records.last).test.accuracy > 0.85)
    }
}
