import Foundation
import Testing
import Training

extension RestartTests {
    /// A run's records belong to it: a resume drops from the metrics file and
    /// the TensorBoard files what this run wrote after its checkpoint (it
    /// writes that again), so each epoch and step appears once, and it never
    /// touches another run's lines or files.
    @Suite("A resumed run's metrics and TensorBoard records")
    final class RunRecords {
        let scratch: URL

        init() throws { scratch = try TestSupport.temporaryDirectory() }
        deinit { try? FileManager.default.removeItem(at: scratch) }

        /// The (epoch, step) of every metrics line of `path`, with its run.
        func lines(_ path: String) throws -> [(run: String, epoch: Int, step: Int)] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return (object["run"] as? String ?? "", object["epoch"] as? Int ?? -1, object["step"] as? Int ?? -1)
            }
        }

        @Test("--max-steps ending inside an epoch, then a resume: the epoch's line appears once, for the whole epoch; another run's line in the same file stays",
              .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
        func partialEpochLineIsReplaced() throws {
            let run = try RunFolder(scratch, "partial", flags: ["--model", "mlp", "--hidden", "16", "--epochs", "2"])
            let first = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "30"], log: run.log("first"))
            try #require(first.status == 0, "\(first.stdout)")
            let foreign = #"{"event":"epoch","run":"another-run","epoch":1,"step":99999}"# + "\n"
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: run.metrics))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(foreign.utf8))
            try handle.close()
            #expect(try lines(run.metrics).map(\.epoch) == [1, 1])

            let again = try TestSupport.runTrainer(np: 2, run.command + ["--max-steps", "1000"], log: run.log("again"))
            try #require(again.status == 0, "\(again.stdout)")
            let after = try lines(run.metrics)
            let ours = after.filter { $0.run != "another-run" }
            #expect(ours.map(\.epoch) == [1, 2] && ours.map(\.step) == [937, 1000], "\(after)")
            #expect(Set(ours.map(\.run)).count == 1)
            #expect(after.contains { $0.run == "another-run" && $0.step == 99999 }, "another run's line was removed")
        }

        @Test("Killed after an epoch's line but before its checkpoint (the newest checkpoint mid-epoch): the resumed run does not report that epoch twice",
              .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
        func epochLineBeforeItsCheckpoint() throws {
            let run = try RunFolder(scratch, "before-checkpoint", flags: ["--model", "mlp", "--hidden", "16", "--epochs", "1",
                                                                       "--checkpoint-every", "500", "--keep", "5"])
            let first = try TestSupport.runTrainer(np: 1, run.command, log: run.log("first"))
            try #require(first.status == 0, "\(first.stdout)")
            // As if killed between the epoch's line and its checkpoint.
            try FileManager.default.removeItem(atPath: run.checkpoint(937))
            try Data("ckpt-00000500.h5\n".utf8).write(to: URL(fileURLWithPath: run.checkpoints + "/latest"))
            #expect(try lines(run.metrics).map(\.epoch) == [1])
            let again = try TestSupport.runTrainer(np: 1, run.command, log: run.log("again"))
            try #require(again.status == 0, "\(again.stdout)")
            #expect(again.stdout.contains("resuming from \(run.checkpoint(500))"), "\(again.stdout)")
            let after = try lines(run.metrics)
            #expect(after.map(\.epoch) == [1], "\(after)")
        }

        @Test("Two runs in one TensorBoard directory: resuming one rewrites only its own event file; the other's is byte for byte unchanged",
              .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
        func tensorBoardFilesOfAnotherRun() throws {
            let board = scratch.appendingPathComponent("shared-board").path
            let a = try RunFolder(scratch, "a", flags: ["--model", "mlp", "--hidden", "16", "--tensorboard", board,
                                                       "--checkpoint-every", "10"])
            let b = try RunFolder(scratch, "b", flags: ["--model", "mlp", "--hidden", "16", "--tensorboard", board])
            // A writes steps 1-20 but its newest checkpoint is step 10; then B runs to step 40.
            let firstA = try TestSupport.runTrainer(np: 1, a.command + ["--max-steps", "20"], log: a.log("first"))
            try #require(firstA.status == 0, "\(firstA.stdout)")
            try FileManager.default.removeItem(atPath: a.checkpoint(20))
            try Data("ckpt-00000010.h5\n".utf8).write(to: URL(fileURLWithPath: a.checkpoints + "/latest"))
            let filesOfA = Set(try FileManager.default.contentsOfDirectory(atPath: board))
            let runB = try TestSupport.runTrainer(np: 1, b.command + ["--max-steps", "40"], log: b.log("b"))
            try #require(runB.status == 0, "\(runB.stdout)")
            let fileOfB = try #require(Set(try FileManager.default.contentsOfDirectory(atPath: board)).subtracting(filesOfA).first)
            let bytesOfB = try Data(contentsOf: URL(fileURLWithPath: board + "/" + fileOfB))

            let again = try TestSupport.runTrainer(np: 1, a.command + ["--max-steps", "30"], log: a.log("again"))
            try #require(again.status == 0, "\(again.stdout)")
            #expect(again.stdout.contains("tensorboard: "), "A's own file is trimmed: \(again.stdout)")
            #expect(!again.stdout.contains(fileOfB), "\(again.stdout)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: board + "/" + fileOfB)) == bytesOfB, "B's event file changed")
        }

        @Test("--resume never --overwrite moves the old run's best.h5 aside with its checkpoints (whether or not the new run keeps a best model); without --overwrite the run is refused naming it",
              .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
        func overwriteKeepsTheOldBestModel() throws {
            let old = try RunFolder(scratch, "best", flags: ["--model", "mlp", "--hidden", "16", "--keep-best", "test_loss",
                                                            "--epochs", "1"])
            let first = try TestSupport.runTrainer(np: 1, old.command, log: old.log("old"))
            try #require(first.status == 0, "\(first.stdout)")
            let best = old.checkpoints + "/best.h5"
            let oldBest = try Data(contentsOf: URL(fileURLWithPath: best))
            for keepBest in [true, false] {
                let flags = ["--model", "mlp", "--hidden", "16", "--max-steps", "5", "--resume", "never"]
                    + (keepBest ? ["--keep-best", "test_loss"] : [])
                let refused = try TestSupport.runTrainer(np: 1, ["train"] + flags + ["--checkpoint-dir", old.checkpoints],
                                                         log: old.log("refused-\(keepBest)"))
                #expect(refused.status != 0 && refused.stdout.contains(best), "\(refused.stdout)")
                #expect(try Data(contentsOf: URL(fileURLWithPath: best)) == oldBest)
            }
            let new = try TestSupport.runTrainer(np: 1, ["train", "--model", "mlp", "--hidden", "16", "--max-steps", "5",
                                                         "--resume", "never", "--overwrite", "--checkpoint-dir", old.checkpoints],
                                                 log: old.log("new"))
            try #require(new.status == 0, "\(new.stdout)")
            #expect(new.stdout.contains("and the best model of \(old.checkpoints) into"), "\(new.stdout)")
            let replaced = try #require(try FileManager.default.contentsOfDirectory(atPath: old.checkpoints).first { $0.hasPrefix("replaced-") })
            #expect(try Data(contentsOf: URL(fileURLWithPath: old.checkpoints + "/" + replaced + "/best.h5")) == oldBest)
            #expect(!FileManager.default.fileExists(atPath: best), "the old best model still sits beside the new run's files")
        }
    }
}
