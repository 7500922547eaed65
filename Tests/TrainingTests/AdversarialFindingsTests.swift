import Checkpoint
import Foundation
import HDF5
import ModelZoo
import RunLog
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

    func finishedRun(_ name: String) throws -> RunFolder { try RunFolder.finishedMLP(scratch, name) }

    @Test("A checkpoint whose running records are crafted (optimizer step Int.max or -5, a NaN or negative epoch loss sum or sample count, a best value that is not a number or NaN, best epochs out of range, more gradient-norm steps than steps, a world size, samples-seen count or generator state out of range) is refused on resume, naming what is wrong, instead of a trap, a NaN loss or a best.h5 replaced by a worse model",
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
            ("world-zero", { $0.worldSize = 0 }, "world size 0; an MPI job has from 1"),
            ("world-huge", { $0.worldSize = Int.max }, "world size \(Int.max)"),
            ("seen-negative", { $0.samplesSeen = -1 }, "-1 samples seen, not from 0 to"),
            ("seen-too-many", { $0.samplesSeen = Int.max }, "\(Int.max) samples seen"),
            ("rng-short", { $0.rngState = [1] }, "the generator state holds 1 word(s)"),
            ("rng-zero", { $0.rngState = [0, 0, 0, 0] }, "the generator state holds 4 word(s), all zero"),
        ]
        try RunFolder.expectCraftedResumesRefused(scratch, cases)
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
        let fixture = TestSupport.fixtures.appendingPathComponent("unwritten-dataset-datafile.h5").path
        let out = try TestSupport.run(trainer, ["train", "--data", fixture, "--max-steps", "1", "--threads", "1",
                                                "--checkpoint-dir", scratch.appendingPathComponent("c").path])
        #expect(out.status == TrainingError.permanentExitStatus, "exit \(out.status): \(out.stderr)")
        #expect(out.stderr.contains("--data: \(fixture): object '/x': cannot read dataset shape"), "\(out.stderr)")
    }

    @Test("A --data file whose x is stored in another file (HDF5 external storage, or a virtual dataset) is refused naming --data and the dataset, instead of reading whatever file the name points to",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func dataStoredInOtherFiles() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let fixtures = TestSupport.fixtures
        let secret = (0..<32).map { Float($0) }
        try secret.withUnsafeBytes { try Data($0).write(to: scratch.appendingPathComponent("secret.bin")) }
        let source = try HDF5File.create(scratch.appendingPathComponent("source.h5").path)
        try source.writeDataset("/x", shape: [4, 8], values: secret)
        try source.close()
        for name in ["external-storage-datafile.h5", "virtual-datafile.h5"] {
            let copy = scratch.appendingPathComponent(name)
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: copy)
            let out = try TestSupport.run(trainer, ["train", "--data", copy.path, "--max-steps", "1", "--threads", "1",
                                                    "--checkpoint-dir", scratch.appendingPathComponent("c-\(name)").path])
            #expect(out.status == TrainingError.permanentExitStatus, "\(name): exit \(out.status): \(out.stderr)")
            #expect(out.stderr.contains("--data: \(copy.path): object '/x'"), "\(name): \(out.stderr)")
            #expect(out.stderr.contains("its values are stored in other files"), "\(name): \(out.stderr)")
        }
    }

    @Test("trainer experiment --out naming a file, or a directory that cannot be made, is an error naming --out and the reason, not a Foundation dump; the file is left alone",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func experimentOutThatIsAFile() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let file = scratch.appendingPathComponent("notes.txt")
        try Data("keep\n".utf8).write(to: file)
        let reason = "\(file.path) is a regular file, not a directory"
        for out in [file.path, file.appendingPathComponent("sub").path] {
            let result = try TestSupport.run(trainer, ["experiment", "momentum", "--tiny", "--threads", "1", "--out", out])
            #expect(result.status != 0 && result.status != 132, "exit \(result.status)")
            #expect(result.stderr.contains("--out: cannot create the directory \(out): \(reason)"), "\(result.stderr)")
            #expect(!result.stderr.contains("NSCocoaErrorDomain"), "\(result.stderr)")
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == "keep\n")
    }

    /// A finished 3-epoch run on a small blobs file keeping the best
    /// train_loss, one checkpoint per epoch: its flags (without --epochs),
    /// its checkpoint folder, its epoch checkpoints' names in order, and
    /// best.h5's bytes, checked to come from after the first epoch.
    func runKeepingTheBest(_ name: String) throws -> (flags: [String], checkpoints: String, files: [String], best: Data) {
        let trainer = try #require(TestSupport.trainerExecutable)
        let data = scratch.appendingPathComponent("\(name)-blobs.h5").path
        let (x, y) = DataFileTests.blobs(96, seed: 3)
        let f = try HDF5File.create(data)
        try f.writeDataset("x", shape: [96, 20], values: x)
        try f.writeDataset("y", shape: [96], values: y)
        try f.close()
        let checkpoints = scratch.appendingPathComponent(name).path
        let flags = ["train", "--data", data, "--model", "mlp", "--hidden", "8", "--batch-size", "32", "--lr", "0.05",
                     "--threads", "1", "--checkpoint-every", "0", "--keep", "5", "--keep-best", "train_loss",
                     "--checkpoint-dir", checkpoints]
        let initial = try TestSupport.run(trainer, flags + ["--epochs", "3"])
        try #require(initial.status == 0, "\(initial.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: checkpoints).filter { $0.hasPrefix("ckpt-") }.sorted()
        let firstStep = try CheckpointFile.read(checkpoints + "/" + files[0]).globalStep
        let later = try CheckpointFile.read(checkpoints + "/best.h5")
        try #require(later.globalStep > firstStep, "the best epoch is the first: \(later.globalStep)")
        return (flags, checkpoints, files, try Data(contentsOf: URL(fileURLWithPath: checkpoints + "/best.h5")))
    }

    /// The one `replaced-<time>` folder in `checkpoints`.
    func replacedFolder(_ checkpoints: String) throws -> String {
        let folders = try FileManager.default.contentsOfDirectory(atPath: checkpoints).filter { $0.hasPrefix("replaced-") }
        return checkpoints + "/" + (try #require(folders.first, "no replaced-<time> folder"))
    }

    @Test("--resume PATH --overwrite from an earlier epoch moves aside best.h5 of the run's later epochs with the later checkpoints, instead of letting the resumed run replace it with a worse model; without --overwrite it is named in the refusal",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func laterBestIsMovedAside() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let (flags, checkpoints, files, bytes) = try runKeepingTheBest("best")
        let best = checkpoints + "/best.h5"
        let first = files[0]

        let refused = try TestSupport.run(trainer, flags + ["--epochs", "3", "--resume", checkpoints + "/" + first])
        #expect(refused.status != 0 && refused.stderr.contains(best), "exit \(refused.status): \(refused.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: best)) == bytes)

        let again = try TestSupport.run(trainer, flags + ["--epochs", "2", "--resume", checkpoints + "/" + first,
                                                          "--overwrite"])
        #expect(again.status == 0, "exit \(again.status): \(again.stderr)")
        #expect(again.stdout.contains("and the best model"), "\(again.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: try replacedFolder(checkpoints) + "/best.h5")) == bytes,
                "the later epochs' best.h5 was not kept")
    }

    @Test("--resume auto past damaged later checkpoints moves aside the best.h5 of their epochs, with a note, before repeating those epochs",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func autoPastDamagedKeepsTheirBest() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let (flags, checkpoints, files, bytes) = try runKeepingTheBest("auto-best")
        for name in files.dropFirst() { try Data("damaged".utf8).write(to: URL(fileURLWithPath: checkpoints + "/" + name)) }
        let again = try TestSupport.run(trainer, flags + ["--epochs", "3"])
        #expect(again.status == 0, "exit \(again.status): \(again.stderr)")
        #expect(again.stdout.contains("past \(checkpoints)/\(files[0]), the newest valid checkpoint"), "\(again.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: try replacedFolder(checkpoints) + "/best.h5")) == bytes,
                "the damaged epochs' best.h5 was not kept")
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

    @Test("A resume from a checkpoint without a run id (written before runs had ids) trims the run-less metrics lines after it, and only then: lines without a run are left alone when the checkpoint has an id")
    func unmarkedMetricsLinesBelongToAnUnmarkedRun() throws {
        let path = scratch.appendingPathComponent("legacy.jsonl").path
        let lines = (1...3).map { #"{"event":"epoch","epoch":\#($0)}"# }
        for includingUnmarked in [false, true] {
            try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
            let log = try MetricsLog(path: path)
            let dropped = try log.dropRecords(ofRun: "new", includingUnmarked: includingUnmarked) { ($0["epoch"] as? Int ?? 0) > 1 }
            #expect(dropped == (includingUnmarked ? 2 : 0))
            let kept = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(kept == (includingUnmarked ? [lines[0]] : lines), "\(kept)")
        }
    }

    @Test("A resume from a checkpoint without a run id trims the TensorBoard files written with no run (\"swiftddp\" alone) too; with an id it leaves them alone")
    func unmarkedTensorBoardFilesBelongToAnUnmarkedRun() throws {
        for ownsUnmarkedFiles in [false, true] {
            let directory = scratch.appendingPathComponent("tb-\(ownsUnmarkedFiles)").path
            let legacy = try TensorBoardWriter(directory: directory, hostname: "host", wallTime: 1_796_000_000)
            for step in 1...10 { try legacy.addScalars([("loss", Double(step))], step: step) }
            try legacy.close()
            let resumed = try TensorBoardWriter(directory: directory, run: "new", resumingAfterStep: 6,
                                                ownsUnmarkedFiles: ownsUnmarkedFiles, hostname: "host")
            try resumed.close()
            let steps = try TensorBoardEventFile.read(legacy.path).compactMap { $0.scalars.isEmpty ? nil : $0.step }
            #expect(steps == Array(1...(ownsUnmarkedFiles ? 6 : 10)))
        }
    }

    @Test("A --metrics file that is not text (binary) is refused on resume naming --metrics and the file, left as it was; a --metrics path under a regular file names the file in the way")
    func metricsFileThatIsNotText() throws {
        let binary = scratch.appendingPathComponent("binary.jsonl")
        let bytes = Data([0xFF, 0xFE, 0x00, 0x81, 0x0A])
        try bytes.write(to: binary)
        let log = try MetricsLog(path: binary.path)
        let error = try #require(throws: TrainingError.self) { _ = try log.dropRecords(ofRun: "a") { _ in true } }
        #expect("\(error)".hasPrefix("--metrics: \(binary.path) is not text (not UTF-8)"), "\(error)")
        #expect(try Data(contentsOf: binary) == bytes)

        let plain = scratch.appendingPathComponent("plain")
        try Data("x".utf8).write(to: plain)
        let under = plain.appendingPathComponent("sub/m.jsonl").path
        let blocked = try #require(throws: TrainingError.self) { _ = try MetricsLog(path: under) }
        #expect("\(blocked)" == "--metrics: cannot create the directory \(plain.path)/sub for \(under): "
                + "\(plain.path) is a regular file, not a directory", "\(blocked)")
    }

    @Test("A bad option of eval, bench, experiment or train (also one checked after parsing, such as --lr-milestones) exits 64, the status ./launch does not restart, naming the flag",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func everyCommandsBadOptionIsPermanent() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let cases: [([String], String)] = [
            (["eval", "--checkpoint", "none.h5", "--batch-size", "0"], "--batch-size: must be between 1"),
            (["bench", "--seconds", "0"], "--seconds: must be a positive number"),
            (["bench", "--workload", "nosuch"], "--workload: unknown workload 'nosuch'"),
            (["experiment", "nosuch", "--tiny"], "NAME: "),
            (["experiment", "momentum", "--tiny", "--full"], "--full: and --tiny exclude each other"),
            (["train", "--lr-milestones", "a,b", "--max-steps", "1"], "--lr-milestones: 'a,b' is not"),
        ]
        for (arguments, message) in cases {
            let out = try TestSupport.run(trainer, arguments)
            #expect(out.status == TrainingError.permanentExitStatus, "\(arguments): exit \(out.status): \(out.stderr)")
            #expect(out.stderr.contains("Error: \(message)"), "\(arguments): \(out.stderr)")
        }
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
