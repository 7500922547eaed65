import Checkpoint
import Foundation
import HDF5
import RunLog
import Testing
import Training

/// Checkpointing can be off, or every N steps with or without the save at
/// each epoch's end: a run of many short epochs spent most of its time in
/// those saves.
@Suite("Checkpoints off, or without the epoch-end save")
final class CheckpointSwitchTests {
    let scratch: URL

    init() throws { scratch = try TestSupport.temporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    /// 96 samples of 20 values in three classes, and the flags that train
    /// an mlp on them in two-step epochs.
    func flags(_ checkpoints: String) throws -> [String] {
        let data = scratch.appendingPathComponent("blobs.h5").path
        if !FileManager.default.fileExists(atPath: data) {
            let (x, y) = DataFileTests.blobs(96, seed: 3)
            let f = try HDF5File.create(data)
            try f.writeDataset("x", shape: [96, 20], values: x)
            try f.writeDataset("y", shape: [96], values: y)
            try f.close()
        }
        return ["train", "--data", data, "--model", "mlp", "--hidden", "8", "--batch-size", "32", "--threads", "1",
                "--checkpoint-dir", checkpoints]
    }

    @Test("--no-checkpoints writes no checkpoint and makes no directory, and running again trains again; with --keep-best or --resume PATH it is refused naming the flag",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func checkpointsOff() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let checkpoints = scratch.appendingPathComponent("off").path
        for _ in 0..<2 {
            let out = try TestSupport.run(trainer, try flags(checkpoints) + ["--epochs", "2", "--no-checkpoints"])
            #expect(out.status == 0, "\(out.stderr)")
            #expect(out.stdout.contains("epoch 2/2") && !out.stdout.contains("resuming"), "\(out.stdout)")
            #expect(!FileManager.default.fileExists(atPath: checkpoints))
        }
        for (extra, flag) in [(["--keep-best", "train_loss"], "--keep-best"), (["--resume", "x.h5"], "--resume")] {
            let out = try TestSupport.run(trainer, try flags(checkpoints) + ["--no-checkpoints"] + extra)
            #expect(out.status == TrainingError.permanentExitStatus && out.stderr.contains("Error: \(flag): "), "\(out.stderr)")
        }
    }

    @Test("--no-epoch-checkpoints saves every --checkpoint-every steps (the epoch's last step too) and once at the end, not at each epoch's end; the same command then has nothing to do",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func withoutEpochEndSaves() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let checkpoints = scratch.appendingPathComponent("periodic").path
        let command = try flags(checkpoints) + ["--epochs", "5", "--no-epoch-checkpoints", "--checkpoint-every", "4", "--keep", "10"]
        let out = try TestSupport.run(trainer, command)
        #expect(out.status == 0, "\(out.stderr)")
        // 86 training samples (the last 10% test the model) make epochs of 2 steps: periodic saves
        // at steps 4 and 8 (each an epoch's last step), the end at 10; none at 2 or 6.
        let steps = try CheckpointDirectory(checkpoints).checkpoints().map(\.globalStep)
        #expect(steps == [4, 8, 10], "\(steps)")
        let again = try TestSupport.run(trainer, command)
        #expect(again.status == 0 && again.stdout.contains("nothing to do"), "\(again.stdout)")
    }

    @Test("Many short epochs to a pipe: one result line per epoch and no flood of progress lines (at most one per 10 s), with --no-epoch-checkpoints saving once",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func shortEpochsStayQuiet() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let started = Date()
        let out = try TestSupport.run(trainer, try flags(scratch.appendingPathComponent("quiet").path)
                                      + ["--epochs", "60", "--no-epoch-checkpoints"])
        #expect(out.status == 0, "\(out.stderr)")
        let lines = out.stdout.split(separator: "\n")
        let progress = lines.filter { $0.contains(" step ") && $0.contains("ETA") }.count
        #expect(lines.filter { $0.hasPrefix("epoch ") && $0.contains("test_loss") }.count == 60, "\(out.stdout)")
        #expect(Double(progress) <= Date().timeIntervalSince(started) / ProgressReporter.lineInterval + 1, "\(out.stdout)")
        #expect(out.stdout.contains("checkpoints: 1 saved"), "\(out.stdout)")
    }
}
