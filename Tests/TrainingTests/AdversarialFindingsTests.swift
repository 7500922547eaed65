import Checkpoint
import Foundation
import Testing
import Training

/// Failures found by trying crafted input on the trainer: each was a trap,
/// a run continuing from a wrong state with exit 0, or an error that named
/// neither the flag nor the file.
@Suite("Adversarial findings", .serialized)
final class AdversarialFindingsTests {
    let scratch: URL

    init() throws { scratch = try TestSupport.temporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    /// A 20-step run of a small MLP with checkpoints at steps 10 and 20.
    func finishedRun(_ name: String) throws -> RunFolder {
        let run = try RunFolder(scratch, name, flags: ["--model", "mlp", "--hidden", "16", "--checkpoint-every", "10"])
        let first = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "20"], log: run.log("first"))
        try #require(first.status == 0, "\(first.stdout)")
        return run
    }

    @Test("A checkpoint whose running records are crafted (optimizer step Int.max or -5, a NaN or negative epoch loss sum or sample count, a best value that is not a number or NaN, best epochs out of range, more gradient-norm steps than steps) is refused on resume, naming what is wrong, instead of a trap, a NaN loss or a best.h5 replaced by a worse model",
          .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
    func craftedRecordsAreRefused() throws {
        let cases: [(String, (inout TrainingState) -> Void, String)] = [
            ("step-max", { $0.optimizer.step = Int.max }, "optimizer: step \(Int.max), but the run has taken 20"),
            ("step-negative", { $0.optimizer.step = -5 }, "optimizer: step -5, but the run has taken 20"),
            ("loss-nan", { $0.extra["epoch_loss_sum"] = "nan" }, "the epoch's loss sum is nan"),
            ("samples-negative", { $0.extra["epoch_samples"] = "-1e308" }, "the epoch's samples are -1e+308"),
            ("samples-too-many", { $0.extra["epoch_samples"] = "1e9" }, "the epoch's samples are 1000000000.0"),
            ("best-junk", { $0.extra["best_value_bits"] = "zz" }, "extra 'best_value_bits' is 'zz', not a number"),
            ("best-nan", { $0.extra["best_value_bits"] = String(Double.nan.bitPattern) }, "the best value so far is nan"),
            ("best-epoch", { $0.extra["best_epoch"] = String(Int.max) }, "extra 'best_epoch' is \(Int.max)"),
            ("patience", { $0.extra["epochs_without_improvement"] = "-5" }, "extra 'epochs_without_improvement' is -5"),
            ("norm-steps", { $0.extra["gradient_norm_steps"] = "99" }, "99 gradient-norm steps in an epoch at step 20"),
        ]
        for (name, craft, message) in cases {
            let run = try finishedRun(name)
            var state = try CheckpointFile.read(run.checkpoint(20))
            craft(&state)
            try CheckpointFile.write(state, to: run.checkpoint(20))
            let before = try DirectorySnapshot(run.checkpoints)
            let out = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "40"], log: run.log("again"))
            #expect(out.status != 0 && out.status != 132, "\(name): exit \(out.status)")
            #expect(out.stdout.contains("\(run.checkpoint(20)) does not match this run: "), "\(name): \(out.stdout)")
            #expect(out.stdout.contains(message), "\(name): \(out.stdout)")
            #expect(try DirectorySnapshot(run.checkpoints) == before, "\(name): the refused resume changed the directory")
        }
    }

    @Test("An unchanged checkpoint's records pass the checks: the same run resumes",
          .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
    func honestRecordsResume() throws {
        let run = try finishedRun("honest")
        let out = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "30"], log: run.log("again"))
        #expect(out.status == 0, "exit \(out.status): \(out.stdout)")
        #expect(out.stdout.contains("resuming from \(run.checkpoint(20))"), "\(out.stdout)")
    }

    @Test("A --data file with a dataset HDF5 cannot read (a shape the file stores no values for) is a permanent error naming --data and the file, not exit 1 with a bare HDF5 message",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func unreadableDataset() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/unwritten-dataset-datafile.h5").path
        let out = try TestSupport.run(trainer, ["train", "--data", fixture, "--max-steps", "1", "--threads", "1",
                                                "--checkpoint-dir", scratch.appendingPathComponent("c").path])
        #expect(out.status == TrainingError.permanentExitStatus, "exit \(out.status): \(out.stderr)")
        #expect(out.stderr.contains("--data: \(fixture): object '/x': cannot read dataset shape"), "\(out.stderr)")
    }

    @Test("trainer experiment --out naming a file, or a directory that cannot be made, is an error naming --out and the reason, not a Foundation dump; the file is left alone",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func experimentOutThatIsAFile() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let file = scratch.appendingPathComponent("notes.txt")
        try Data("keep\n".utf8).write(to: file)
        let reason = "\(file.path) exists and is not a directory"
        for out in [file.path, file.appendingPathComponent("sub").path] {
            let result = try TestSupport.run(trainer, ["experiment", "momentum", "--tiny", "--threads", "1", "--out", out])
            #expect(result.status != 0 && result.status != 132, "exit \(result.status)")
            #expect(result.stderr.contains("--out: cannot create the directory \(out): \(reason)"), "\(result.stderr)")
            #expect(!result.stderr.contains("NSCocoaErrorDomain"), "\(result.stderr)")
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == "keep\n")
    }

    @Test("--resume PATH --overwrite from an earlier epoch moves aside best.h5 of the run's later epochs with the later checkpoints, instead of letting the resumed run replace it with a worse model; without --overwrite it is named in the refusal",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func laterBestIsMovedAside() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let data = scratch.appendingPathComponent("blobs.h5").path
        let (x, y) = DataFileTests.blobs(96, seed: 3)
        let f = try HDF5File.create(data)
        try f.writeDataset("x", shape: [96, 20], values: x)
        try f.writeDataset("y", shape: [96], values: y)
        try f.close()
        let checkpoints = scratch.appendingPathComponent("best").path
        let flags = ["train", "--data", data, "--model", "mlp", "--hidden", "8", "--batch-size", "32", "--lr", "0.05",
                     "--threads", "1", "--checkpoint-every", "0", "--keep", "5", "--keep-best", "train_loss",
                     "--checkpoint-dir", checkpoints]
        let initial = try TestSupport.run(trainer, flags + ["--epochs", "3"])
        try #require(initial.status == 0, "\(initial.stderr)")
        let best = checkpoints + "/best.h5"
        let first = try #require(try FileManager.default.contentsOfDirectory(atPath: checkpoints)
            .filter { $0.hasPrefix("ckpt-") }.sorted().first)
        let firstStep = try CheckpointFile.read(checkpoints + "/" + first).globalStep
        let later = try CheckpointFile.read(best)
        try #require(later.globalStep > firstStep, "the best epoch is the first: \(later.globalStep)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: best))

        let refused = try TestSupport.run(trainer, flags + ["--epochs", "3", "--resume", checkpoints + "/" + first])
        #expect(refused.status != 0 && refused.stderr.contains(best), "exit \(refused.status): \(refused.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: best)) == bytes)

        let again = try TestSupport.run(trainer, flags + ["--epochs", "2", "--resume", checkpoints + "/" + first,
                                                          "--overwrite"])
        #expect(again.status == 0, "exit \(again.status): \(again.stderr)")
        #expect(again.stdout.contains("and the best model"), "\(again.stdout)")
        let folders = try FileManager.default.contentsOfDirectory(atPath: checkpoints).filter { $0.hasPrefix("replaced-") }
        let folder = try #require(folders.first, "no replaced-<time> folder")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(checkpoints)/\(folder)/best.h5")) == bytes,
                "the later epochs' best.h5 was not kept")
    }

    @Test("Two runs sharing one --metrics file: a line one appends after the other's resume rewrote the file lands in the new file, not in the replaced one where it would be lost")
    func sharedMetricsFileKeepsEveryLine() throws {
        let path = scratch.appendingPathComponent("shared.jsonl").path
        func record(_ run: String, _ epoch: Int) -> JSONRecord {
            var record = JSONRecord()
            record.add("event", "epoch")
            record.add("run", run)
            record.add("epoch", epoch)
            return record
        }
        let a = try MetricsLog(path: path), b = try MetricsLog(path: path)
        for epoch in 1...3 { try a.append(record("a", epoch)) }
        try b.append(record("b", 1))
        let dropped = try a.dropRecords(ofRun: "a") { ($0["epoch"] as? Int ?? 0) > 1 }
        #expect(dropped == 2)
        try b.append(record("b", 2))
        try a.append(record("a", 2))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == [record("a", 1), record("b", 1), record("b", 2), record("a", 2)].map(\.text), "\(lines)")
    }

    /// A small --data file: 96 samples of 20 values in three classes.
    func blobsFile() throws -> String {
        let data = scratch.appendingPathComponent("blobs-\(UUID().uuidString).h5").path
        let (x, y) = DataFileTests.blobs(96, seed: 3)
        let f = try HDF5File.create(data)
        try f.writeDataset("x", shape: [96, 20], values: x)
        try f.writeDataset("y", shape: [96], values: y)
        try f.close()
        return data
    }

    @Test("--save-parameters naming an HDF5 file (a checkpoint, the --data file, or the best.h5 the run itself writes) is refused naming the flag, and the file is left as it was",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func saveParametersOverHDF5() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let data = try blobsFile()
        let checkpoints = scratch.appendingPathComponent("save").path
        let flags = ["train", "--data", data, "--model", "mlp", "--hidden", "8", "--batch-size", "32", "--threads", "1",
                     "--checkpoint-every", "0", "--keep-best", "train_loss", "--checkpoint-dir", checkpoints]
        let first = try TestSupport.run(trainer, flags + ["--epochs", "1"])
        try #require(first.status == 0, "\(first.stderr)")
        for target in [checkpoints + "/ckpt-00000002.h5", data] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: target))
            let out = try TestSupport.run(trainer, flags + ["--epochs", "2", "--save-parameters", target])
            #expect(out.status == TrainingError.permanentExitStatus, "exit \(out.status): \(out.stderr)")
            #expect(out.stderr.contains("--save-parameters: \(target) is an HDF5 file"), "\(out.stderr)")
            #expect(!out.stdout.contains("epoch 2/2"), "trained before refusing: \(out.stdout)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == bytes, "\(target) was changed")
        }
        // best.h5 does not exist before this run; the run writes it, then must not replace it.
        let fresh = scratch.appendingPathComponent("save-fresh").path
        let freshFlags = flags.map { $0 == checkpoints ? fresh : $0 }
        // The folder exists (--save-parameters' folder is checked at start), best.h5 does not.
        try FileManager.default.createDirectory(atPath: fresh, withIntermediateDirectories: true)
        let out = try TestSupport.run(trainer, freshFlags + ["--epochs", "1", "--save-parameters", fresh + "/best.h5"])
        #expect(out.status != 0 && out.stderr.contains("--save-parameters: \(fresh)/best.h5 is an HDF5 file"), "exit \(out.status): \(out.stderr)")
        #expect(try CheckpointFile.read(fresh + "/best.h5").globalStep == 2)
    }

    @Test("A bad --layers is a permanent error (exit 64, which ./launch does not retry), as every other bad option is",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func badLayersIsPermanent() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        for layers in ["0", ",", "10,x"] {
            let out = try TestSupport.run(trainer, ["train", "--model", "deep-autoencoder", "--layers", layers,
                                                    "--checkpoint-dir", scratch.appendingPathComponent("layers").path])
            #expect(out.status == TrainingError.permanentExitStatus, "\(layers): exit \(out.status): \(out.stderr)")
            #expect(out.stderr.contains("--layers: expected positive widths"), "\(out.stderr)")
        }
    }
}
