import Checkpoint
import Foundation
import Testing

extension RestartTests {
    /// What resuming does with checkpoints it must not use: a run that
    /// diverged, corrupt files, and checkpoints of another configuration.
    /// None of them is ever changed by the attempt.
    @Suite("Diverged runs, corrupt checkpoints and mismatched configurations")
    final class DamagedCheckpoints {
        let scratch: URL

        init() throws { scratch = try TestSupport.temporaryDirectory() }
        deinit { try? FileManager.default.removeItem(at: scratch) }

        @Test("--lr 1e30 in a directory of good checkpoints: resuming with it is refused unless --override lr, which logs the change; the run then fails with an error naming the step, a non-zero exit, no checkpoint for that step, the good checkpoints untouched and valid (inspect exits 0), and the next run resumes from them")
        func divergingRunKeepsGoodCheckpoints() throws {
            let run = try RunFolder(scratch, "diverging", flags: ["--model", "mlp", "--hidden", "32", "--optimizer", "sgd",
                                                                 "--checkpoint-every", "20"])
            let good = try TestSupport.runTrainer(np: 1, run.command + ["--lr", "0.05", "--max-steps", "40"], log: run.log("good"))
            try #require(good.status == 0, "\(good.stdout)")
            let before = try DirectorySnapshot(run.checkpoints)
            #expect(before.names == ["ckpt-00000020.h5", "ckpt-00000040.h5", "latest"])

            // Resuming with another --lr is refused, naming it and the way to change it on purpose, and changes nothing.
            let refused = try TestSupport.runTrainer(np: 1, run.command + ["--lr", "1e30", "--max-steps", "100"], log: run.log("refused"))
            #expect(refused.status != 0 && refused.stdout.contains("--lr: the checkpoint's optimizer has lr 0.05"), "\(refused.stdout)")
            #expect(refused.stdout.contains("--override lr changes it on purpose"), "\(refused.stdout)")
            // Changed on purpose: step 41's update throws the parameters far away and step 42's loss is not finite.
            let bad = try TestSupport.runTrainer(np: 1, run.command + ["--lr", "1e30", "--max-steps", "100", "--override", "lr"],
                                                 log: run.log("bad"))
            #expect(bad.status != 0)
            #expect(bad.stdout.contains("--override lr: the checkpoint's optimizer had lr 0.05; this run goes on with 1e+30 from global step 40"),
                    "\(bad.stdout)")
            #expect(bad.stdout.contains(/loss is -?(nan|inf) at epoch 1, step 42: training diverged/), "\(bad.stdout)")
            #expect(bad.stdout.contains("no checkpoint was written for this step"))
            #expect(try DirectorySnapshot(run.checkpoints) == before, "the diverging run changed the checkpoint directory")

            let trainer = try #require(TestSupport.trainerExecutable)
            let inspect = try TestSupport.run(trainer, ["inspect", run.checkpoint(40)])
            #expect(inspect.status == 0 && inspect.stdout.contains("valid: yes"), "\(inspect.stdout)\(inspect.stderr)")

            let again = try TestSupport.runTrainer(np: 1, run.command + ["--lr", "0.05", "--max-steps", "60"], log: run.log("again"))
            #expect(again.status == 0, "\(again.stdout)")
            #expect(again.stdout.contains("resuming from \(run.checkpoint(40)): "))
            #expect(try CheckpointFile.read(run.checkpoint(60)).globalStep == 60)
        }

        @Test("A corrupt newest checkpoint: --resume auto names the file and the damaged dataset, resumes from the one before, and ends bitwise as an uninterrupted run")
        func corruptNewestFallsBack() throws {
            let flags = ["--model", "mlp", "--hidden", "32", "--checkpoint-every", "20"]
            let reference = try UninterruptedRuns.shared.result(np: 1, flags: flags + ["--max-steps", "80"])
            let run = try RunFolder(scratch, "corrupt-newest", flags: flags)
            let first = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "60"], log: run.log("first"))
            try #require(first.status == 0, "\(first.stdout)")
            let dataset = try TestSupport.corruptTensorData(of: run.checkpoint(60))

            let out = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "80"], log: run.log("again"))
            #expect(out.status == 0, "\(out.stdout)")
            #expect(out.stdout.contains("warning: skipping checkpoint \(run.checkpoint(60)): "), "\(out.stdout)")
            #expect(out.stdout.contains("dataset '\(dataset)' is corrupt"), "\(out.stdout)")
            #expect(out.stdout.contains("resuming from \(run.checkpoint(40)): "), "\(out.stdout)")
            #expect(try run.finalParameters() == reference.parameters)
            // The step-60 checkpoint was written again, whole.
            #expect(try CheckpointFile.read(run.checkpoint(60)).globalStep == 60)
        }

        @Test("Every checkpoint corrupt (np=2): --resume auto names each damaged file and stops with a clear error and a non-zero exit, changing nothing")
        func allCorruptIsAnError() throws {
            let run = try RunFolder(scratch, "all-corrupt", flags: ["--model", "mlp", "--hidden", "32",
                                                                   "--checkpoint-every", "20", "--max-steps", "40"])
            let first = try TestSupport.runTrainer(np: 1, run.command, log: run.log("first"))
            try #require(first.status == 0, "\(first.stdout)")
            for step in [20, 40] { try TestSupport.corruptTensorData(of: run.checkpoint(step)) }
            let before = try DirectorySnapshot(run.checkpoints)

            let out = try TestSupport.runTrainer(np: 2, run.command + ["--max-steps", "60"], log: run.log("again"))
            #expect(out.status != 0)
            for step in [20, 40] {
                #expect(out.stdout.contains("warning: skipping checkpoint \(run.checkpoint(step)): "), "\(out.stdout)")
            }
            #expect(out.stdout.contains("no valid checkpoint in \(run.checkpoints) (all 2 are damaged, see above)"),
                    "\(out.stdout)")
            #expect(out.stdout.contains("--resume never"))
            #expect(try DirectorySnapshot(run.checkpoints) == before)
        }

        @Test("Resuming with another --hidden, --model, --optimizer, --batch-size, --lr or --no-shuffle is refused with an error naming what differs and a non-zero exit, and no file in the checkpoint directory changes")
        func mismatchedConfigurationIsRefused() throws {
            let base = ["--model": "mlp", "--hidden": "32", "--optimizer": "adam", "--batch-size": "64"]
            func flags(_ changes: [String: String] = [:]) -> [String] {
                // An empty value is a flag without one (--no-shuffle).
                base.merging(changes) { $1 }.sorted { $0.key < $1.key }.flatMap { $0.value.isEmpty ? [$0.key] : [$0.key, $0.value] }
                    + ["--checkpoint-every", "10"]
            }
            let run = try RunFolder(scratch, "mismatch", flags: flags())
            let first = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "20"], log: run.log("first"))
            try #require(first.status == 0, "\(first.stdout)")
            let before = try DirectorySnapshot(run.checkpoints)

            let cases: [(change: [String: String], np: Int, message: String)] = [
                (["--hidden": "64"], 1, "model_config.hidden: the checkpoint has 32, this run has 64"),
                // highway: a model that takes --hidden (softmax would be refused for it before the checkpoint is read).
                (["--model": "highway"], 1, "model: the checkpoint has 'mlp', this run has 'highway'"),
                (["--optimizer": "sgd"], 1, "optimizer: the checkpoint has 'adam', this run has 'sgd'"),
                (["--batch-size": "128"], 2, "--batch-size: the checkpoint was trained with global batch 64, this run asks for 128"),
                (["--no-shuffle": ""], 1, "--no-shuffle: the checkpoint's run shuffled, this run keeps the order"),
                (["--lr": "0.01"], 1, "--lr: the checkpoint's optimizer has lr 0.001, this run asks for 0.01"),
            ]
            for (change, np, message) in cases {
                let other = try RunFolder(scratch, "other", flags: flags(change))
                // The same checkpoint directory, another configuration.
                let command = ["train"] + other.flags + ["--checkpoint-dir", run.checkpoints, "--save-parameters",
                                                         other.parameters, "--max-steps", "40"]
                let out = try TestSupport.runTrainer(np: np, command, log: other.log("mismatch"))
                #expect(out.status != 0, "\(change)")
                #expect(out.stdout.contains("checkpoint \(run.checkpoint(20)) does not match this run: "), "\(change): \(out.stdout)")
                #expect(out.stdout.contains(message), "\(change): \(out.stdout)")
                #expect(out.stdout.contains("Nothing was changed"))
                #expect(try DirectorySnapshot(run.checkpoints) == before, "\(change) changed the checkpoint directory")
                #expect(try other.finalParameters() == nil)
            }
        }
    }
}
