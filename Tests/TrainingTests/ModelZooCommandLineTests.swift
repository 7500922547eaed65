import Foundation
import Testing

@Suite("trainer command line: the model zoo")
struct ModelZooCommandLineTests {
    let trainer: URL

    init() throws {
        trainer = try #require(TestSupport.trainerExecutable, "trainer executable not built next to the tests")
    }

    @Test("--help documents the model zoo's options and names every model")
    func help() throws {
        let out = try TestSupport.run(trainer, ["train", "--help"])
        #expect(out.status == 0)
        for flag in ["--latent", "--layers", "--depth", "--task", "--loss", "--summary"] {
            #expect(out.stdout.contains(flag), "train --help lacks \(flag)")
        }
        for model in ["cnn", "lenet", "tied-autoencoder", "deep-autoencoder", "highway", "cifar10"] {
            #expect(out.stdout.contains(model), "train --help does not mention \(model)")
        }
    }

    @Test("--summary prints the layer table before training",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func summary() throws {
        let out = try TestSupport.run(trainer, ["train", "--model", "cnn", "--summary", "--max-steps", "3", "--threads", "1"])
        #expect(out.status == 0, "stderr: \(out.stderr)")
        #expect(out.stdout.contains("Conv2d (8 -> 16, 5x5)"))
        #expect(out.stdout.contains("MaxPool2d (2x2)"))
        #expect(out.stdout.contains("Total params: 5,994"))
        let table = try #require(out.stdout.range(of: "Total params"))
        let firstEpoch = try #require(out.stdout.range(of: "test_accuracy"))
        #expect(table.lowerBound < firstEpoch.lowerBound)
    }

    @Test("A reconstruction model's epoch line and JSON record carry test_loss and test_mse",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func reconstructionMetrics() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.jsonl").path
        let out = try TestSupport.run(trainer, ["train", "--model", "tied-autoencoder", "--latent", "16", "--loss", "mse",
                                                "--max-steps", "10", "--threads", "1", "--metrics", path])
        #expect(out.status == 0, "stderr: \(out.stderr)")
        #expect(out.stdout.contains("test_mse"))
        let line = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first ?? ""
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["model"] as? String == "tied-autoencoder")
        #expect(object["test_loss"] is Double && object["test_mse"] is Double)
        #expect(object["test_accuracy"] == nil)
    }

    @Test("Bad model options are refused naming the flag", arguments: [
        (["--model", "cnn", "--task", "reconstruct"], "--task"),
        (["--model", "highway", "--task", "translate"], "--task"),
        (["--model", "deep-autoencoder", "--layers", "500,x"], "--layers"),
        (["--model", "autoencoder", "--latent", "0"], "--latent"),
        (["--model", "highway", "--depth", "-1"], "--depth"),
        (["--model", "mlp", "--loss", "mse"], "--loss"),
        (["--model", "autoencoder", "--loss", "l1"], "--loss"),
    ])
    func badOptions(arguments: [String], flag: String) throws {
        let out = try TestSupport.run(trainer, ["train"] + arguments)
        #expect(out.status != 0)
        #expect(out.stderr.contains(flag), "stderr: \(out.stderr)")
    }

    @Test("cifar10 without --data-dir says which files it needs")
    func cifarNeedsDirectory() throws {
        let out = try TestSupport.run(trainer, ["train", "--model", "lenet", "--dataset", "cifar10"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("data_batch_1.bin") && out.stderr.contains("--data-dir"), "stderr: \(out.stderr)")
    }

    @Test("lenet trains from the command line on CIFAR-10 files")
    func lenetOnCIFAR10() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticCIFAR10(to: dir.path, perBatch: 16, test: 20)
        let out = try TestSupport.run(trainer, ["train", "--model", "lenet", "--dataset", "cifar10", "--data-dir", dir.path,
                                                "--batch-size", "16", "--threads", "1", "--summary"])
        #expect(out.status == 0, "stderr: \(out.stderr)")
        #expect(out.stdout.contains("Total params: 62,006"))
        #expect(out.stdout.contains("80 train / 20 test"))
        #expect(out.stdout.contains("test_accuracy"))
    }

    @Test("The AVX2 and scalar convolution kernels train as the default (here AVX-512) ones do",
          arguments: ["cnn", "lenet"])
    func kernelVariantsAgree(model: String) throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticCIFAR10(to: dir.path, perBatch: 64, test: 50)
        func figures(isa: String?) throws -> [String: Double] {
            var environment = ProcessInfo.processInfo.environment
            environment["CKERNELS_ISA"] = isa
            let metrics = dir.appendingPathComponent("\(isa ?? "default").jsonl").path
            let out = try TestSupport.run(trainer, ["train", "--model", model, "--dataset", "cifar10", "--data-dir", dir.path,
                                                    "--batch-size", "32", "--max-steps", "10", "--threads", "1",
                                                    "--metrics", metrics], environment: environment)
            #expect(out.status == 0, "stderr: \(out.stderr)")
            let line = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n").first ?? ""
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return object.compactMapValues { $0 as? Double }
        }
        let reference = try figures(isa: nil)
        for isa in ["avx2", "scalar"] {
            let other = try figures(isa: isa)
            // Only the rounding differs (fused multiply-adds or not).
            for key in ["train_loss", "test_loss"] {
                let (a, b) = (try #require(reference[key]), try #require(other[key]))
                #expect(abs(a - b) <= 1e-3 * max(1, abs(a)), "\(isa) \(key): \(b), default \(a)")
            }
        }
    }

    @Test("trainer bench runs the user-shaped workloads and reports their GFLOP/s against this machine's sgemm",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func benchUserWorkloads() throws {
        let out = try TestSupport.run(trainer, ["bench", "--workload", "user", "--steps", "2", "--mode", "default"])
        #expect(out.status == 0, "stderr: \(out.stderr)")
        let records = try out.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(records.compactMap { $0["workload"] as? String }
                == ["user-cnn", "user-cnn32", "user-strided", "user-rnn", "user-gru"])
        for record in records {
            let gflops = try #require(record["gflops"] as? Double), fraction = try #require(record["of_sgemm"] as? Double)
            #expect(gflops > 0 && fraction > 0, "\(record)")
        }
        let unknown = try TestSupport.run(trainer, ["bench", "--workload", "user-transformer"])
        #expect(unknown.status == 64 && unknown.stderr.contains("user-transformer") && unknown.stderr.contains("user-gru"),
                "\(unknown.stderr)")
    }

    @Test("trainer bench knows the cnn workload",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func benchCNN() throws {
        let out = try TestSupport.run(trainer, ["bench", "--workload", "cnn", "--steps", "5"])
        #expect(out.status == 0, "stderr: \(out.stderr)")
        #expect(out.stdout.contains(#""workload":"cnn""#) && out.stdout.contains("samples_per_s"))
    }
}
