import Foundation
import Testing

@Suite("trainer command line")
struct CommandLineTests {
    let trainer: URL

    init() throws {
        trainer = try #require(TestSupport.trainerExecutable, "trainer executable not built next to the tests")
    }

    @Test("--help documents every option of train")
    func helpListsOptions() throws {
        let out = try TestSupport.run(trainer, ["train", "--help"])
        #expect(out.status == 0)
        for flag in ["--model", "--hidden", "--dataset", "--data-dir", "--epochs", "--max-steps", "--batch-size",
                     "--optimizer", "--lr", "--momentum", "--seed", "--no-shuffle", "--metrics"] {
            #expect(out.stdout.contains(flag), "train --help lacks \(flag)")
        }
        let top = try TestSupport.run(trainer, ["--help"])
        #expect(top.status == 0 && top.stdout.contains("train") && top.stdout.contains("bench"))
    }

    @Test("An unknown model is refused with the list of models")
    func unknownModel() throws {
        let out = try TestSupport.run(trainer, ["train", "--model", "resnet", "--checkpoint-dir", "/tmp/trainer-tests-unused"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("resnet") && out.stderr.contains("mlp"))
    }

    @Test("Training and test images of different shapes are an error before the first step, not a trap at the evaluation")
    func mismatchedShapes() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        /// An uncompressed IDX file of unsigned bytes.
        func idx(_ name: String, _ shape: [Int]) throws {
            var bytes: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
            for d in shape { bytes += withUnsafeBytes(of: UInt32(d).bigEndian, Array.init) }
            bytes += (0..<shape.reduce(1, *)).map { UInt8($0 % 10) }
            try Data(bytes).write(to: directory.appendingPathComponent(name))
        }
        try idx("train-images-idx3-ubyte", [100, 28, 28])
        try idx("train-labels-idx1-ubyte", [100])
        try idx("t10k-images-idx3-ubyte", [50, 14, 14])
        try idx("t10k-labels-idx1-ubyte", [50])
        let out = try TestSupport.run(trainer, ["train", "--dataset", "mnist", "--data-dir", directory.path, "--max-steps", "2",
                                                "--batch-size", "10"])
        #expect(out.status != 0 && out.status != 132, "exit \(out.status)")
        #expect(out.stderr.contains("test samples are 1x14x14 but the training samples 1x28x28"), "\(out.stderr)")
        #expect(!out.stdout.contains("epoch 1/1"))
    }

    @Test("A missing data directory is an error naming the path")
    func missingData() throws {
        let out = try TestSupport.run(trainer, ["train", "--dataset", "mnist", "--data-dir", "/nonexistent/mnist",
                                                "--resume", "never", "--checkpoint-dir", "/tmp/trainer-tests-unused"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("/nonexistent/mnist"))
    }

    @Test("Bad numbers are refused naming the flag", arguments: [
        (["--lr", "-1"], "--lr"), (["--epochs", "0"], "--epochs"), (["--batch-size", "0"], "--batch-size"),
        (["--lr", "abc"], "--lr"), (["--optimizer", "lamb"], "--optimizer"),
        (["--clip-grad-norm", "-1"], "--clip-grad-norm"), (["--clip-grad-norm", "nan"], "--clip-grad-norm"),
        (["--accumulate", "0"], "--accumulate"), (["--accumulate", "65"], "--accumulate"),
        (["--lr-schedule", "step"], "--lr-step-size"), (["--lr-schedule", "cosine", "--lr-t-max", "0"], "--lr-schedule cosine"),
        (["--lr-milestones", "3,x"], "--lr-milestones"), (["--lr-step-size", "3"], "--lr-step-size"),
        (["--lr-schedule", "warmup-cosine", "--lr-warmup", "10", "--lr-t-max", "5"], "--lr-schedule warmup-cosine"),
        (["--keep-best", "accuracy"], "--keep-best"), (["--keep-best", "val_loss"], "--keep-best"),
        (["--early-stop", "2"], "--early-stop"), (["--val-fraction", "1"], "--val-fraction"),
        (["--optimizer", "rmsprop", "--alpha", "2"], "--alpha"), (["--centered"], "--centered"),
        (["--model", "mlp", "--dropout", "1"], "--dropout"),
        (["--hidden", "200000", "--batch-size", "60000"], "--batch-size"),  // 192 GB of activations
        (["--bucket-mb", "1e30"], "--bucket-mb"), (["--threads", "4294967296"], "--threads"),
        (["--batch-size", "4294967296"], "--batch-size"), (["--step-timeout=1e-45"], "--step-timeout"),
        (["--lr-gamma", "0.5"], "--lr-gamma"), (["--lr-schedule-unit", "step"], "--lr-schedule-unit"),
        (["--lr-schedule", "cosine", "--lr-t-max", "5", "--lr-gamma", "0.5"], "--lr-gamma"),
        (["--keep-best", "test_mse"], "--keep-best"),
        (["--deterministic", "--accumulate", "4", "--micro-batches", "2"], "--accumulate"),
        (["--optimizer", "sgd", "--momentum", "nan"], "--momentum"), (["--weight-decay", "inf"], "--weight-decay"),
        (["--step-timeout", "nan"], "--step-timeout"), (["--bucket-mb", "nan"], "--bucket-mb"),
        // A value starting with '-' is the option's value, not a flag: the validation names the number.
        (["--hidden", "-5"], "--hidden: must be positive, got -5"), (["--hidden=-5"], "--hidden: must be positive, got -5"),
        (["--max-steps", "-3"], "--max-steps: must be at least 1, got -3"), (["--keep", "-1"], "--keep: must be at least 1, got -1"),
        (["--optimizer", "sgd", "--momentum", "-0.5"], "--momentum: must be in [0, 1), got -0.5"),
        (["--lr", "-1"], "--lr: must be a positive number, got -1.0"),
        // float32 options: what the user typed, not the 0 or inf it would become.
        (["--lr", "1e-300"], "'1e-300' is invalid for '--lr <lr>': 1e-300 is below float32's range"),
        (["--lr", "1e300"], "'1e300' is invalid for '--lr <lr>': 1e300 is above float32's range"),
        (["--weight-decay", "1e-60"], "1e-60 is below float32's range"),
    ])
    func badNumbers(arguments: [String], flag: String) throws {
        let out = try TestSupport.run(trainer, ["train", "--checkpoint-dir", "/tmp/trainer-tests-unused"] + arguments)
        #expect(out.status != 0 && out.status != 132, "exit \(out.status): a trap is no answer to input")
        #expect(out.stderr.contains(flag), "stderr: \(out.stderr)")
    }

    @Test("Every subcommand bounds its numbers: huge values are errors naming the flag, never traps", arguments: [
        (["bench", "--workload", "mlp", "--seconds", "1e30"], "--seconds"),
        (["bench", "--workload", "mlp", "--seconds", "0.1", "--batch-size", "100000"], "--batch-size"),
        (["bench", "--workload", "mlp", "--seconds", "0.1", "--threads", "4294967296"], "--threads"),
        (["eval", "--checkpoint", "/nonexistent.h5", "--batch-size", "9223372036854775807"], "--batch-size"),
        (["experiment", "momentum", "--tiny", "--out", "/tmp/trainer-tests-unused-ex", "--threads", "4294967296"], "--threads"),
        (["bench", "--workload", "mlp", "--seconds", "0.1", "--repeat", "0"], "--repeat"),
        (["bench", "--workload", "mlp", "--seconds", "0.1", "--repeat", "100000"], "--repeat"),
    ])
    func subcommandBounds(arguments: [String], flag: String) throws {
        let out = try TestSupport.run(trainer, arguments)
        #expect(out.status != 0 && out.status != 132 && out.status != 133, "exit \(out.status): a trap is no answer to input")
        #expect(out.stderr.contains(flag), "stderr: \(out.stderr)")
    }

    @Test("train --max-steps runs end to end and prints the epoch figures",
          .enabled(if: TestSupport.hasFashionMNIST, "Fashion-MNIST (dataset-fashion-mnist) is not installed"))
    func shortRun() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try TestSupport.run(trainer, ["train", "--model", "softmax", "--max-steps", "20", "--threads", "1",
                                                "--checkpoint-dir", dir.path])
        #expect(out.status == 0, "stderr: \(out.stderr)")
        #expect(out.stdout.contains("test_accuracy"))
    }
}
