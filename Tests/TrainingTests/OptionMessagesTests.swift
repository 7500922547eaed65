import Foundation
import HDF5
import RunLog
import Testing
import Training

/// Messages for options that are refused: each names the flag or the
/// argument, says what is wrong, and comes before the run does any work or
/// leaves anything behind.
@Suite("Option messages", .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
struct OptionMessagesTests {
    let trainer: URL
    let directory: URL

    init() throws {
        trainer = try #require(TestSupport.trainerExecutable)
        directory = try TestSupport.temporaryDirectory()
    }

    /// A small --data file of three classes (`DataFileTests.blobs`), with a test set unless `test` is false.
    func dataFile(_ name: String = "d.h5", test: Bool = true) throws -> String {
        let path = directory.appendingPathComponent(name).path
        let f = try HDF5File.create(path)
        let (x, y) = DataFileTests.blobs(300, seed: 1)
        try f.writeDataset("x", shape: [300, 20], values: x)
        try f.writeDataset("y", shape: [300], values: y)
        if test {
            let (xt, yt) = DataFileTests.blobs(60, seed: 2)
            try f.writeDataset("x_test", shape: [60, 20], values: xt)
            try f.writeDataset("y_test", shape: [60], values: yt)
        }
        try f.close()
        return path
    }

    func train(_ arguments: [String], checkpoints: String? = nil) throws -> TestSupport.Output {
        try TestSupport.run(trainer, ["train", "--checkpoint-dir", checkpoints ?? directory.appendingPathComponent("c-\(UUID().uuidString)").path,
                                      "--threads", "1", "--model", "mlp", "--hidden", "8", "--batch-size", "30"] + arguments)
    }

    // MARK: Output files

    @Test("--save-parameters and --record-samples into a missing directory are refused before training, naming the flag",
          arguments: ["--save-parameters", "--record-samples"])
    func outputFileInMissingDirectory(flag: String) throws {
        let path = directory.appendingPathComponent("missing/out.bin").path
        let out = try train(["--data", try dataFile(), "--max-steps", "3", flag, path])
        #expect(out.status != 0)
        #expect(out.stderr.contains("\(flag): \(path)") && out.stderr.contains("does not exist"), "\(out.stderr)")
        #expect(!out.stdout.contains("epoch 1/1") && !out.stderr.contains("epoch 1/1"), "the run trained first")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("missing").path))
    }

    // MARK: The checkpoint directory

    @Test("A run refused for its options leaves no checkpoint directory it created (parents included)")
    func refusedRunLeavesNoDirectory() throws {
        let parent = directory.appendingPathComponent("new")
        let out = try train(["--data", try dataFile(), "--resume", directory.appendingPathComponent("none.h5").path],
                            checkpoints: parent.appendingPathComponent("run").path)
        #expect(out.status != 0 && out.stderr.contains("--resume"), "\(out.stderr)")
        #expect(!FileManager.default.fileExists(atPath: parent.path), "left \(parent.path) behind")
        // A directory that was there before stays, empty or not.
        let existing = directory.appendingPathComponent("existing")
        try FileManager.default.createDirectory(at: existing, withIntermediateDirectories: true)
        _ = try train(["--data", try dataFile(), "--resume", directory.appendingPathComponent("none.h5").path],
                      checkpoints: existing.path)
        #expect(FileManager.default.fileExists(atPath: existing.path))
    }

    @Test("A --checkpoint-dir that is a file or a dangling link is one line naming the flag and what it is")
    func checkpointDirectoryNotADirectory() throws {
        let file = directory.appendingPathComponent("plain")
        try Data("x".utf8).write(to: file)
        let link = directory.appendingPathComponent("dangling")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: directory.appendingPathComponent("gone").path)
        for (path, what) in [(file.path, "is a regular file, not a directory"), (link.path, "which does not exist"),
                             (file.appendingPathComponent("sub").path, "\(file.path) is a regular file")] {
            let out = try train(["--data", try dataFile(), "--max-steps", "1"], checkpoints: path)
            #expect(out.status != 0)
            #expect(out.stderr.contains("--checkpoint-dir: \(path) ") && out.stderr.contains(what), "\(out.stderr)")
            #expect(!out.stderr.contains("NSCocoaErrorDomain") && !out.stderr.contains("Error Domain"), "\(out.stderr)")
        }
    }

    @Test("A FIFO or a directory named like an event file is named as such, never opened",
          arguments: ["fifo", "directory"])
    func tensorBoardSpecialFile(kind: String) throws {
        let path = directory.appendingPathComponent("events.out.tfevents.1.host.1.0").path
        if kind == "fifo" {
            #expect(mkfifo(path, 0o644) == 0)
        } else {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        #expect(throws: TensorBoardError.self) { _ = try TensorBoardEventFile.scan(path) }
        do {
            _ = try TensorBoardEventFile.scan(path)
        } catch {
            let message = "\(error)"
            #expect(message.contains("--tensorboard") && message.contains(path)
                    && message.contains(kind == "fifo" ? "is a FIFO" : "is a directory"), "\(message)")
            #expect(!message.contains("permission") && !message.contains("NSCocoaErrorDomain"), "\(message)")
        }
    }

    // MARK: Resume checks that agree

    @Test("A --data file is the same data set however its path is spelled")
    func dataPathSpelling() throws {
        let path = try dataFile()
        let checkpoints = directory.appendingPathComponent("spelling").path
        let first = try train(["--data", path, "--max-steps", "2"], checkpoints: checkpoints)
        #expect(first.status == 0, "\(first.stderr)")
        let respelled = directory.appendingPathComponent(".").appendingPathComponent("d.h5").path
        #expect(respelled != path)
        let second = try train(["--data", respelled, "--max-steps", "4"], checkpoints: checkpoints)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stderr.contains("--dataset"), "\(second.stderr)")
        // Another file's contents under the same kind of name are still refused.
        let other = directory.appendingPathComponent("other.h5").path
        let f = try HDF5File.create(other)
        let (x, y) = DataFileTests.blobs(300, seed: 9)
        try f.writeDataset("x", shape: [300, 20], values: x)
        try f.writeDataset("y", shape: [300], values: y)
        try f.writeDataset("x_test", shape: [60, 20], values: Array(x.prefix(1200)))
        try f.writeDataset("y_test", shape: [60], values: Array(y.prefix(60)))
        try f.close()
        let third = try train(["--data", other, "--max-steps", "6"], checkpoints: checkpoints)
        #expect(third.status != 0 && third.stderr.contains("--dataset"), "\(third.stderr)")
    }

    @Test("--keep-best val_loss on a file without x_test says why --val-fraction makes no validation set")
    func keepBestWithoutValidationSet() throws {
        let out = try train(["--data", try dataFile(test: false), "--max-steps", "2", "--keep-best", "val_loss", "--val-fraction", "0.2"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("--keep-best") && out.stderr.contains("no x_test") && out.stderr.contains("test_loss"),
                "\(out.stderr)")
        #expect(!out.stderr.contains("add --val-fraction"), "\(out.stderr)")
    }

    @Test("A zoo option the model does not use is refused on a fresh run, naming the models that take it", arguments: [
        (["--model", "mlp", "--latent", "10"], "--latent: applies to autoencoder, tied-autoencoder, highway"),
        (["--model", "softmax", "--hidden", "10"], "--hidden: applies to mlp, highway"),
        (["--model", "mlp", "--depth", "2"], "--depth: applies to highway"),
        (["--model", "autoencoder", "--layers", "30"], "--layers: applies to deep-autoencoder"),
        (["--model", "highway", "--latent", "10"], "--latent: highway uses the code size only with --task reconstruct"),
    ])
    func unusedZooOption(arguments: [String], message: String) throws {
        let out = try TestSupport.run(trainer, ["train", "--checkpoint-dir", directory.appendingPathComponent("zoo").path,
                                                "--max-steps", "1"] + arguments)
        #expect(out.status != 0)
        #expect(out.stderr.contains(message), "\(out.stderr)")
    }

    // MARK: Label types of --data files

    /// Whether python3 with h5py is installed (it writes the numpy dtypes the project's writer has no type for).
    static let hasH5py: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import h5py, numpy"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// A --data file written by h5py: 300 samples of three classes (the
    /// values of `DataFileTests.blobs`), y stored as numpy's `dtype`.
    func h5pyFile(labels dtype: String) throws -> String {
        let path = directory.appendingPathComponent("y-\(dtype).h5").path
        let (x, y) = DataFileTests.blobs(300, seed: 1)
        try Data(x.withUnsafeBytes { Array($0) }).write(to: URL(fileURLWithPath: path + ".x"))
        let script = """
            import sys, h5py, numpy as np
            x = np.fromfile(sys.argv[1] + ".x", dtype="<f4").reshape(300, 20)
            y = np.array([\(y.map(String.init).joined(separator: ","))])
            with h5py.File(sys.argv[1], "w") as f:
                f["x"] = x
                f["y"] = y.astype("\(dtype)") if "\(dtype)" != "S4" else np.array([str(v).encode() for v in y], dtype="S4")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "h5py could not write \(path)")
        return path
    }

    @Test("Class labels of every integer type train", .enabled(if: hasH5py, "python3 with h5py is not installed"),
          arguments: ["int8", "int16", "uint16", "int32", "uint64", ">i2"])
    func integerLabels(dtype: String) throws {
        let out = try train(["--data", try h5pyFile(labels: dtype), "--max-steps", "2"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("test_accuracy") || out.stderr.contains("test_accuracy"), "\(out.stdout)")
    }

    @Test("Labels that are not integers or floats are refused naming their type", .enabled(if: hasH5py, "python3 with h5py is not installed"),
          arguments: [("bool", "an enum type"), ("S4", "a fixed-length string")])
    func nonLabelTypes(dtype: String, described: String) throws {
        let out = try train(["--data", try h5pyFile(labels: dtype), "--max-steps", "2"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("'y' holds \(described), which is neither integer class labels"), "\(out.stderr)")
    }

    @Test("A label out of range in a narrow type is refused naming it and the type", .enabled(if: hasH5py, "python3 with h5py is not installed"))
    func negativeNarrowLabel() throws {
        let path = try h5pyFile(labels: "int8")
        let script = "import sys, h5py\nwith h5py.File(sys.argv[1], 'a') as f: f['y'][0] = -3"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        try process.run()
        process.waitUntilExit()
        let out = try train(["--data", path, "--max-steps", "2"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("'y' (int8) holds the class label -3"), "\(out.stderr)")
    }

    // MARK: Arguments that are not UTF-8

    @Test("An argument that is not UTF-8 is refused naming its position, and nothing is created")
    func argumentNotUTF8() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.currentDirectoryURL = directory
        // printf makes the byte 0xff, which no Swift String can carry.
        process.arguments = ["-c", "exec \"$0\" train --max-steps 1 --checkpoint-dir \"$(printf 'run\\377')\"", trainer.path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(stderr.contains("argument 5 (after '--checkpoint-dir'), 'run\\xff', is not valid UTF-8"), "\(stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
