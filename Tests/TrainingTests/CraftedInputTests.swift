import Checkpoint
import Foundation
import ModelZoo
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension RestartTests {
    /// Files made to break the trainer: a checkpoint whose numbers are
    /// valid HDF5 and pass its checksum but make no sense, and special
    /// files where a checkpoint or data file should be. Each is an error
    /// naming the file and what is wrong, never a trap (exit 132), a hang,
    /// or a run that overwrites another checkpoint.
    @Suite("Crafted checkpoints and special files")
    final class CraftedInputs {
        let scratch: URL

        init() throws { scratch = try TestSupport.temporaryDirectory() }
        deinit { try? FileManager.default.removeItem(at: scratch) }

        func finishedRun(_ name: String) throws -> RunFolder { try RunFolder.finishedMLP(scratch, name) }

        @Test("A checkpoint whose position is crafted (epoch Int.max, step -7, global step -5, a global step other than its name's) is refused on resume, naming the position, with nothing changed",
              .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
        func craftedPositionIsRefused() throws {
            let cases: [(String, (inout TrainingState) -> Void, String)] = [
                ("epoch", { $0.epoch = Int.max }, "do not make global step 20"),
                ("iteration", { $0.iteration = -7 }, "none may be negative"),
                ("global-step", { $0.globalStep = -5 }, "none may be negative"),
                ("renamed", { $0.globalStep = 25; $0.iteration = 25 }, "the file is named for step 20 but holds global step 25"),
            ]
            try RunFolder.expectCraftedResumesRefused(scratch, prefix: "position: ", cases)
        }

        @Test("--max-steps near Int.max on resume trains to the end of the epoch",
              .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
        func hugeMaxStepsOnResume() throws {
            let run = try finishedRun("huge-max-steps")
            let out = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", String(Int.max - 1), "--epochs", "1"],
                                                 log: run.log("again"))
            #expect(out.status == 0, "exit \(out.status): \(out.stdout)")
            #expect(out.stdout.contains("resuming from \(run.checkpoint(20))"), "\(out.stdout)")
        }

        @Test("trainer eval on a crafted model_config: a huge input shape and a model far larger than the checkpoint's tensors are errors naming the file, before anything is allocated",
              .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
        func craftedModelConfig() throws {
            let trainer = try #require(TestSupport.trainerExecutable)
            let cases: [(String, (inout [String: Any]) -> Void, String)] = [
                ("shape", { $0["inputShape"] = [1, Int.max, Int.max] }, "at most"),
                ("hidden", { $0["hidden"] = 200_000 }, "describes"),
            ]
            for (name, craft, message) in cases {
                let run = try finishedRun("config-\(name)")
                var state = try CheckpointFile.read(run.checkpoint(20))
                var config = try #require(try JSONSerialization.jsonObject(with: Data(state.modelConfig.utf8)) as? [String: Any])
                craft(&config)
                state.modelConfig = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
                try CheckpointFile.write(state, to: run.checkpoint(20))
                let start = Date()
                let out = try TestSupport.run(trainer, ["eval", "--checkpoint", run.checkpoint(20)])
                #expect(out.status != 0 && out.status != 132, "\(name): exit \(out.status): \(out.stderr)")
                #expect(out.stderr.contains(run.checkpoint(20)) && out.stderr.contains(message), "\(name): \(out.stderr)")
                #expect(Date().timeIntervalSince(start) < 10, "\(name): took \(Date().timeIntervalSince(start)) s")
            }
        }

        @Test("A FIFO given as a checkpoint (eval, inspect, --resume) or as --data is refused at once, naming it, not read forever",
              .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
        func fifoInputsAreRefused() throws {
            let trainer = try #require(TestSupport.trainerExecutable)
            let fifo = scratch.appendingPathComponent("pipe.h5").path
            try #require(mkfifo(fifo, 0o600) == 0)
            let commands: [[String]] = [
                ["eval", "--checkpoint", fifo],
                ["inspect", fifo],
                ["train", "--resume", fifo, "--max-steps", "2", "--checkpoint-dir", scratch.appendingPathComponent("r").path],
                ["train", "--data", fifo, "--max-steps", "2", "--checkpoint-dir", scratch.appendingPathComponent("d").path],
            ]
            for command in commands {
                let log = scratch.appendingPathComponent("fifo-\(command[0]).log")
                let job = try BackgroundProcess(trainer, command, log: log)
                let out = try TestSupport.finish(job, seconds: 30, what: "trainer \(command.joined(separator: " "))")
                #expect(out.status != 0 && out.status != 132, "\(command): exit \(out.status)")
                #expect(out.stdout.contains(fifo) && out.stdout.contains("FIFO"), "\(command): \(out.stdout)")
            }
        }

        @Test("A foreign TensorBoard event file named for second Int.max does not stop training",
              .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
        func foreignEventFileName() throws {
            let board = scratch.appendingPathComponent("foreign-board")
            try FileManager.default.createDirectory(at: board, withIntermediateDirectories: true)
            let foreign = board.appendingPathComponent("events.out.tfevents.9223372036854775807.host.1.0")
            try Data().write(to: foreign)
            let run = try RunFolder(scratch, "board", flags: ["--model", "mlp", "--hidden", "16", "--tensorboard", board.path])
            let out = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "5"], log: run.log("board"))
            #expect(out.status == 0, "exit \(out.status): \(out.stdout)")
            #expect(try Data(contentsOf: foreign).isEmpty, "the foreign file was changed")
        }

        @Test("Resuming with another --accumulate: the note says 'equal up to rounding' for the mlp, and that the continuation differs beyond rounding for cnn-bn (BatchNorm's per-pass statistics)",
              .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
        func accumulateNoteNamesBatchNorm() throws {
            for (model, phrase) in [("mlp", "equal up to rounding"), ("cnn-bn", "differs beyond rounding")] {
                let run = try RunFolder(scratch, "accumulate-\(model)", flags: ["--model", model])
                let first = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "4"], log: run.log("first"))
                try #require(first.status == 0, "\(first.stdout)")
                let again = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "6", "--accumulate", "2"],
                                                       log: run.log("again"))
                #expect(again.status == 0 && again.stdout.contains("note: --accumulate 2") && again.stdout.contains(phrase),
                        "\(model): \(again.stdout)")
            }
        }
    }
}
