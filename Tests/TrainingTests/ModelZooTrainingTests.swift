import DataLoading
import Foundation
import ModelZoo
import NN
import TensorCore
import Testing
import Training

/// Fashion-MNIST, loaded once (on first use) for these tests.
private let fashionLoad = Result { try DatasetCatalog.load(name: "fashion-mnist") }

private func fashion() throws -> DatasetSplits { try fashionLoad.get() }

/// 6,400 training and 1,000 test images of Fashion-MNIST, for short runs.
private func smallFashion() throws -> DatasetSplits {
    let data = try fashion()
    return DatasetSplits(name: data.name, directory: data.directory, train: data.train.subset(0..<6_400),
                         test: data.test.subset(0..<1_000), note: nil)
}

/// A learnable CIFAR-10 in the binary format: images of class k are noise
/// with a bright band in rows 3k ..< 3k + 3 of channel k % 3.
func writeSyntheticCIFAR10(to directory: String, perBatch: Int, test: Int) throws {
    var generator = RandomGenerator(seed: 42)
    func batch(_ count: Int, first: Int) -> Data {
        var bytes: [UInt8] = []
        for i in first..<(first + count) {
            let label = i % 10
            bytes.append(UInt8(label))
            for channel in 0..<3 {
                for row in 0..<32 {
                    for _ in 0..<32 {
                        let band = channel == label % 3 && row / 3 == label
                        bytes.append(band ? 250 : UInt8(generator.nextInt(below: 120)))
                    }
                }
            }
        }
        return Data(bytes)
    }
    for b in 1...5 {
        try batch(perBatch, first: (b - 1) * perBatch).write(to: URL(fileURLWithPath: directory + "/data_batch_\(b).bin"))
    }
    try batch(test, first: 7).write(to: URL(fileURLWithPath: directory + "/test_batch.bin"))
}

@Suite("Model zoo training")
struct ModelZooTrainingTests {
    static let specs: [ModelSpec] = [
        ModelSpec(name: "softmax"),
        ModelSpec(name: "mlp", hidden: 32),
        ModelSpec(name: "cnn"),
        ModelSpec(name: "lenet"),  // on 1x28x28 here; on CIFAR-10's format below
        ModelSpec(name: "autoencoder", latent: 32),
        ModelSpec(name: "autoencoder", latent: 32, loss: .mse),
        ModelSpec(name: "tied-autoencoder", latent: 32),
        ModelSpec(name: "deep-autoencoder", layers: [128, 64, 16]),
        ModelSpec(name: "highway", hidden: 64, depth: 2),
        ModelSpec(name: "highway", hidden: 64, latent: 16, depth: 2, task: .reconstruct),
    ]

    @Test("Every model trains 60 steps through the Trainer and its test loss goes down",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"),
          arguments: specs)
    func lossGoesDown(_ spec: ModelSpec) throws {
        var c = TestSupport.configuration(spec)
        c.maxSteps = 60
        c.threads = 1
        let trainer = try Trainer(configuration: c, data: try smallFashion(), showProgress: false)
        let before = try trainer.evaluateTestSet()
        try trainer.run()
        let records = trainer.records
        let after = try #require(records.last).test
        #expect(trainer.globalStep == 60)
        switch spec.task {
        case .classify:
            #expect(after.loss < 0.8 * before.loss, "cross-entropy \(before.loss) -> \(after.loss)")
            #expect(after.accuracy > 0.5, "accuracy \(after.accuracy)")
        case .reconstruct:
            // Reported whatever the training loss: BCE as the loss, MSE beside it.
            #expect(after.loss < 0.9 * before.loss, "BCE \(before.loss) -> \(after.loss)")
            #expect(after.meanSquaredError < 0.8 * before.meanSquaredError,
                    "MSE \(before.meanSquaredError) -> \(after.meanSquaredError)")
        case .regress:
            Issue.record("the zoo specs here classify or reconstruct; regression is tested with --data files")
        }
    }

    @Test("--loss mse trains on MSE: the training loss is the pixel MSE, far below the BCE",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func mseTrainingLoss() throws {
        func trainLoss(_ loss: ReconstructionLoss) throws -> Double {
            var c = TestSupport.configuration(ModelSpec(name: "autoencoder", latent: 16, loss: loss))
            c.maxSteps = 20
            c.threads = 1
            return try #require(TestSupport.records(of: try Trainer(configuration: c, data: try smallFashion(), showProgress: false)).last).trainLoss
        }
        // Over the first 20 steps the pixel MSE is about 0.17 and the BCE about 0.68.
        let mse = try trainLoss(.mse), bce = try trainLoss(.bce)
        #expect(mse < 0.5 * bce && bce > 0.3, "mse \(mse), bce \(bce)")
    }

    @Test("lenet trains on CIFAR-10 files in the binary format and learns a learnable set")
    func lenetOnGeneratedCIFAR10() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSyntheticCIFAR10(to: directory.path, perBatch: 128, test: 200)
        var c = TestSupport.configuration(ModelSpec(name: "lenet"))
        c.dataset = "cifar10"
        c.dataDirectory = directory.path
        c.epochs = 6
        c.batchSize = 32
        c.threads = 1
        let trainer = try Trainer(configuration: c, showProgress: false)
        #expect(trainer.trainSet.count == 640 && trainer.trainSet.sampleShape == [3, 32, 32])
        #expect(trainer.parameters.count == 62_006)
        let before = try trainer.evaluateTestSet()
        let after = try #require(TestSupport.records(of: trainer).last).test
        #expect(after.loss < 0.5 * before.loss, "cross-entropy \(before.loss) -> \(after.loss)")
        #expect(after.accuracy > 0.8, "accuracy \(after.accuracy)")
    }

    @Test("Issue target, measured: cnn, Adam 0.001, batch 64, seed 0, 3 epochs of Fashion-MNIST: 0.860 (target 0.87)",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func cnnAccuracy() throws {
        var c = TestSupport.configuration(ModelSpec(name: "cnn"))
        c.epochs = 3
        c.threads = 1
        let records = try TestSupport.records(of: try Trainer(configuration: c, data: try fashion(), showProgress: false))
        let accuracy = try #require(records.last).test.accuracy
        // Guards the figure reached (0.8603 on Zen's OpenBLAS kernel, 0.8547
        // on AVX-512's: the bits, and so the path, depend on the kernel;
        // seeds 1-3: 0.853-0.860), which falls short of the issue's 0.87:
        // see the README's figures.
        #expect(accuracy >= 0.85, "test accuracy \(accuracy)")
    }

    @Test("Issue target, measured: autoencoder --latent 64, 1 epoch: test BCE 0.302 (target 0.30)",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func autoencoderReconstruction() throws {
        var c = TestSupport.configuration(ModelSpec(name: "autoencoder", latent: 64))
        c.threads = 1
        let records = try TestSupport.records(of: try Trainer(configuration: c, data: try fashion(), showProgress: false))
        let test = try #require(records.last).test
        // 0.3023 here (PyTorch: 0.305); the issue asks for 0.30.
        #expect(test.loss <= 0.304, "test BCE \(test.loss)")
        #expect(test.meanSquaredError < 0.025, "test MSE \(test.meanSquaredError)")
    }
}

@Suite("ModelSpec")
struct ModelSpecTests {
    @Test("Every model name builds, with the task its name implies")
    func names() {
        #expect(ModelSpec.names == ["softmax", "mlp", "cnn", "cnn-bn", "lenet", "autoencoder", "tied-autoencoder",
                                    "deep-autoencoder", "highway"])
        for name in ModelSpec.names {
            let spec = ModelSpec(name: name)
            let expected: ModelZoo.ModelTask = name.contains("autoencoder") ? .reconstruct : .classify
            #expect(spec.task == expected, "\(name)")
            var generator = RandomGenerator(seed: 0)
            #expect(spec.build(generator: &generator).parameterCount > 0)
        }
        #expect(ModelSpec(name: "highway", task: .reconstruct).task == .reconstruct)
    }

    @Test("Bad options are refused naming the flag", arguments: [
        (ModelSpec(name: "resnet"), "--model"),
        (ModelSpec(name: "autoencoder", latent: 0), "--latent"),
        (ModelSpec(name: "highway", depth: 0), "--depth"),
        (ModelSpec(name: "deep-autoencoder", layers: []), "--layers"),
        (ModelSpec(name: "deep-autoencoder", layers: [100, -3]), "--layers"),
        (ModelSpec(name: "cnn", task: .reconstruct), "--task"),
        (ModelSpec(name: "autoencoder", task: .classify), "--task"),
        (ModelSpec(name: "cnn", loss: .mse), "--loss"),
        (ModelSpec(name: "highway", loss: .mse), "--loss"),
        (ModelSpec(name: "cnn", inputShape: [1, 8, 8]), "--model"),
        (ModelSpec(name: "cnn-bn", inputShape: [784]), "--model"),
        (ModelSpec(name: "mlp", dropout: 1), "--dropout"),
        (ModelSpec(name: "mlp", dropout: -0.1), "--dropout"),
        (ModelSpec(name: "mlp", dropout: .nan), "--dropout"),
        (ModelSpec(name: "mlp", dropout: 0.999999999), "--dropout"),
        (ModelSpec(name: "cnn", dropout: 0.5), "--dropout"),
    ])
    func validation(spec: ModelSpec, flag: String) {
        #expect {
            try spec.validate()
        } throws: { error in
            String(describing: error).hasPrefix(flag + ":")
        }
    }

    @Test("--layers parses comma-separated widths and names itself when it cannot")
    func layers() throws {
        #expect(try ModelSpec.parseLayers("500,100,30") == [500, 100, 30])
        #expect(try ModelSpec.parseLayers(" 64, 8 ") == [64, 8])
        for bad in ["", "500,,30", "500,abc", "0", "-5,3"] {
            #expect(throws: TrainingError.self, "'\(bad)'") { try ModelSpec.parseLayers(bad) }
            do {
                _ = try ModelSpec.parseLayers(bad)
            } catch {
                #expect(String(describing: error).hasPrefix("--layers:"))
            }
        }
    }

    @Test("A spec survives JSON, and JSON from before the zoo's options decodes with their defaults")
    func codable() throws {
        let spec = ModelSpec(name: "highway", hidden: 48, inputShape: [3, 32, 32], latent: 12, layers: [7],
                             depth: 5, task: .reconstruct, loss: .mse)
        let decoded = try JSONDecoder().decode(ModelSpec.self, from: try JSONEncoder().encode(spec))
        #expect(decoded == spec)
        let old = #"{"name":"mlp","hidden":32,"inputShape":[1,28,28],"classes":10}"#
        let legacy = try JSONDecoder().decode(ModelSpec.self, from: Data(old.utf8))
        #expect(legacy == ModelSpec(name: "mlp", hidden: 32))
        let autoencoder = try JSONDecoder().decode(ModelSpec.self, from: Data(#"{"name":"autoencoder"}"#.utf8))
        #expect(autoencoder.task == .reconstruct && autoencoder.latent == 64 && autoencoder.loss == .bce)
    }

    @Test("--dropout is in the model config only when set, so earlier configurations compare unchanged")
    func dropoutInJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let plain = String(decoding: try encoder.encode(ModelSpec(name: "mlp", hidden: 32)), as: UTF8.self)
        #expect(plain == #"{"classes":10,"depth":3,"hidden":32,"inputShape":[1,28,28],"latent":64,"layers":[500,100,30],"loss":"bce","name":"mlp","task":"classify"}"#)
        let spec = ModelSpec(name: "mlp", hidden: 32, dropout: 0.25)
        let text = try encoder.encode(spec)
        #expect(String(decoding: text, as: UTF8.self).contains(#""dropout":0.25"#))
        #expect(try JSONDecoder().decode(ModelSpec.self, from: text) == spec)
        #expect(try JSONDecoder().decode(ModelSpec.self, from: Data(plain.utf8)).dropout == 0)
    }
}
