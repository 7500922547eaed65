import Foundation
import Glibc
import PlantedLinks
import RunLog
import Testing
import Training
#if canImport(Glibc)
#endif

@Suite("Training's writers never follow a link planted at the name they write")
struct NoFollowTrainingTests {
    @Test("The TensorBoard resume rewrite replaces a link at its temporary name", arguments: PlantedLink.allCases)
    func tensorBoardRewrite(kind: PlantedLink) throws {
        let scratch = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let victim = try Victim(in: scratch)
        let directory = scratch.appendingPathComponent("tb").path
        let first = try TensorBoardWriter(directory: directory)
        for step in 1...20 { try first.addScalar("train/loss", Double(step), step: step) }
        try first.close()
        let temporary = (directory as NSString).appendingPathComponent(".tensorboard-rewrite.\(getpid()).tmp")
        try victim.plant(kind, at: temporary)

        let resumed = try TensorBoardWriter(directory: directory, resumingAfterStep: 10)
        try resumed.close()

        #expect(victim.isUnchanged)
        #expect(isOwnRegularFile(first.path))
        let steps = try TensorBoardEventFile.readDirectory(directory).filter { !$0.scalars.isEmpty }.map(\.step)
        #expect(steps == Array(1...10))
    }

    @Test("--metrics refuses a link at its path rather than appending through it", arguments: PlantedLink.allCases)
    func metricsLink(kind: PlantedLink) throws {
        let scratch = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let victim = try Victim(in: scratch)
        let path = scratch.appendingPathComponent("metrics.jsonl").path
        try victim.plant(kind, at: path)

        var record = JSONRecord()
        record.add("step", 1)
        do {
            let log = try MetricsLog(path: path)
            try log.append(record)
            Issue.record("a link at --metrics was opened for appending")
        } catch {
            #expect("\(error)".contains(path), "\(error)")
        }
        #expect(victim.isUnchanged)
    }

    @Test("A --tensorboard directory owned by another user is refused, naming it",
          .enabled(if: geteuid() == 0, "needs root to chown"))
    func tensorBoardDirectoryOfAnotherUser() throws {
        let scratch = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let directory = scratch.appendingPathComponent("tb").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        #expect(chown(directory, 12345, 12345) == 0)
        do {
            _ = try TensorBoardWriter(directory: directory)
            Issue.record("a directory of uid 12345 was adopted")
        } catch {
            #expect("\(error)".contains(directory) && "\(error)".contains("owned by uid 12345"), "\(error)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "nothing written there")
    }
}

/// The real `trainer train`, with links planted in its checkpoint directory.
@Suite("trainer train never writes through a link planted in its checkpoint directory", .serialized,
       .enabled(if: TestSupport.hasFashionMNIST && TestSupport.trainerExecutable != nil,
                "needs Fashion-MNIST and the built trainer"))
struct NoFollowTrainerTests {
    /// Runs one 30-step epoch (batches of 2000) with checkpoints every 10
    /// steps and `--keep-best` (best.h5 at the epoch's end) in `checkpoints`.
    private func train(_ checkpoints: String) throws -> TestSupport.Output {
        let trainer = try #require(TestSupport.trainerExecutable)
        return try TestSupport.run(trainer, ["train", "--model", "mlp", "--hidden", "16", "--epochs", "1",
                                             "--batch-size", "2000", "--checkpoint-every", "10", "--keep", "5",
                                             "--keep-best", "test_accuracy", "--checkpoint-dir", checkpoints])
    }

    @Test("A link at .ckpt-00000010.h5.tmp or .best.h5.tmp: the victim is untouched, the checkpoints are regular files",
          arguments: PlantedLink.allCases)
    func plantedTemporaries(kind: PlantedLink) throws {
        let scratch = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let victim = try Victim(in: scratch)
        let checkpoints = scratch.appendingPathComponent("checkpoints").path
        try FileManager.default.createDirectory(atPath: checkpoints, withIntermediateDirectories: false)
        try victim.plant(kind, at: (checkpoints as NSString).appendingPathComponent(".ckpt-00000010.h5.tmp"))
        try victim.plant(kind, at: (checkpoints as NSString).appendingPathComponent(".best.h5.tmp"))

        let out = try train(checkpoints)

        #expect(victim.isUnchanged)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        for name in ["ckpt-00000010.h5", "best.h5", "latest"] {
            #expect(isOwnRegularFile((checkpoints as NSString).appendingPathComponent(name)), "\(name)")
        }
    }

    @Test("A checkpoint directory owned by another user is refused before training, naming it",
          .enabled(if: geteuid() == 0, "needs root to chown"))
    func directoryOfAnotherUser() throws {
        let scratch = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let checkpoints = scratch.appendingPathComponent("theirs").path
        try FileManager.default.createDirectory(atPath: checkpoints, withIntermediateDirectories: false)
        #expect(chown(checkpoints, 12345, 12345) == 0)

        let out = try train(checkpoints)

        #expect(out.status != 0)
        #expect(out.stderr.contains("--checkpoint-dir") && out.stderr.contains(checkpoints)
                && out.stderr.contains("owned by uid 12345"), "\(out.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: checkpoints).isEmpty, "nothing written there")
    }
}
