import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a run finds out about its checkpoint directory before it trains.
@Suite("The checkpoint directory: one writer, probed at start, a finished run says so", .serialized,
       .enabled(if: TestSupport.canRunRestartTests, "needs Fashion-MNIST and the built trainer"))
final class CheckpointDirectoryUseTests {
    let scratch: URL

    init() throws { scratch = try TestSupport.temporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    @Test("A second trainer on a directory another one is writing fails at once naming the holder's pid; the first goes on and its checkpoints stay valid")
    func oneWriterPerDirectory() throws {
        let run = try RunFolder(scratch, "shared", flags: ["--model", "mlp", "--hidden", "16", "--epochs", "50",
                                                           "--checkpoint-every", "200"])
        let first = try TestSupport.startTrainer(np: 1, run.command, log: run.log("first"))
        defer { first.stop() }
        try #require(TestSupport.waitForCheckpoint(run, step: 200, while: first) != nil, "the first run saved nothing:\n\(first.output)")
        let second = try TestSupport.runTrainer(np: 1, run.command, log: run.log("second"), seconds: 30)
        #expect(second.status != 0)
        #expect(second.stdout.contains("another trainer (pid \(first.pid) on this host) is writing checkpoints here"),
                "\(second.stdout)")
        #expect(first.isRunning, "the first run should go on")
        kill(first.pid, SIGTERM)
        let out = try TestSupport.finish(first, seconds: 60, what: "the first run after SIGTERM")
        #expect(out.status == 0, "\(out.stdout)")
        let trainer = try #require(TestSupport.trainerExecutable)
        let inspect = try TestSupport.run(trainer, ["inspect", run.checkpoints])
        #expect(inspect.status == 0 && inspect.stdout.contains("valid: yes"), "\(inspect.stdout)\(inspect.stderr)")
    }

    @Test("A --checkpoint-dir that cannot be written is an error before the first step, naming the flag")
    func unwritableDirectoryFoundAtStart() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let started = Date()
        let out = try TestSupport.run(trainer, ["train", "--max-steps", "50", "--checkpoint-dir", "/proc/self"])
        #expect(out.status != 0 && out.stderr.contains("--checkpoint-dir") && out.stderr.contains("/proc/self"), "\(out.stderr)")
        #expect(!out.stdout.contains("epoch 1/1:") && Date().timeIntervalSince(started) < 30)
    }

    @Test("inspect DIR takes the checkpoint --resume auto takes: the newest that verifies, whatever `latest` holds")
    func inspectIgnoresTheLatestPointer() throws {
        let run = try RunFolder(scratch, "pointer", flags: ["--model", "mlp", "--hidden", "16", "--max-steps", "40",
                                                            "--checkpoint-every", "20", "--keep", "5"])
        let first = try TestSupport.runTrainer(np: 1, run.command, log: run.log("first"))
        try #require(first.status == 0, "\(first.stdout)")
        try "garbage\n".write(toFile: run.url.appendingPathComponent("checkpoints/latest").path, atomically: true, encoding: .utf8)
        let trainer = try #require(TestSupport.trainerExecutable)
        let inspect = try TestSupport.run(trainer, ["inspect", run.checkpoints])
        #expect(inspect.status == 0 && inspect.stdout.contains("checkpoint \(run.checkpoint(40))"), "\(inspect.stdout)\(inspect.stderr)")
        // A damaged newest one is skipped, with the reason, by the same rule.
        try Data("broken".utf8).write(to: URL(fileURLWithPath: run.checkpoint(40)))
        let again = try TestSupport.run(trainer, ["inspect", run.checkpoints])
        #expect(again.status == 0 && again.stdout.contains("skipping \(run.checkpoint(40))")
                && again.stdout.contains("checkpoint \(run.checkpoint(20))"), "\(again.stdout)")
    }

    @Test("Running a finished run's command again says it has nothing to do and how to continue")
    func finishedRunSaysSo() throws {
        let run = try RunFolder(scratch, "finished", flags: ["--model", "mlp", "--hidden", "16", "--max-steps", "20"])
        let first = try TestSupport.runTrainer(np: 1, run.command, log: run.log("first"))
        try #require(first.status == 0, "\(first.stdout)")
        let again = try TestSupport.runTrainer(np: 1, run.command, log: run.log("again"))
        #expect(again.status == 0)
        #expect(again.stdout.contains("nothing to do: this run already reached its end at step 20 (--epochs 1, --max-steps 20)"),
                "\(again.stdout)")
    }
}
