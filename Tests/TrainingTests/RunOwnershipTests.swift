import Checkpoint
import Foundation
import HDF5
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A checkpoint directory holds one run's history: what a run does with
/// files it would not continue, with files of a newer format, and with a
/// disk that fills up while it saves.
@Suite("One run per checkpoint directory; newer formats and full disks", .serialized,
       .enabled(if: TestSupport.canRunRestartTests, "needs Fashion-MNIST and the built trainer"))
final class RunOwnershipTests {
    let scratch: URL

    init() throws { scratch = try TestSupport.temporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    /// A tmpfs of `size` (mount's syntax, e.g. "64k") mounted at `scratch/name`, for a disk that fills
    /// up; nil, saying why, where it cannot be had. The caller unmounts it.
    private func mountSmallDisk(_ name: String, size: String) throws -> String? {
        guard getuid() == 0 else {
            Issue.record("skipped: mounting a small tmpfs needs root")
            return nil
        }
        let mountPoint = scratch.appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try TestSupport.run(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint])
        guard mounted.status == 0 else {
            print("skipped: cannot mount a tmpfs here (\(mounted.stderr))")
            return nil
        }
        return mountPoint
    }

    /// The names of the checkpoint files directly in `directory`.
    private func checkpointNames(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("ckpt-") }.sorted()
    }

    @Test("Every checkpoint records its run id; --resume never where checkpoints exist is refused, --overwrite moves them aside (nothing deleted) and the next --resume auto continues the new run only")
    func resumeNeverIntoAnotherRunsDirectory() throws {
        let run = try RunFolder(scratch, "never", flags: ["--model", "mlp", "--hidden", "16", "--checkpoint-every", "10",
                                                          "--keep", "10"])
        let old = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "40"], log: run.log("old"))
        try #require(old.status == 0, "\(old.stdout)")
        let oldID = try #require(try CheckpointFile.read(run.checkpoint(40)).extra[CheckpointFile.runIDKey])
        #expect(oldID.count == 16)

        let refused = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "20", "--resume", "never"], log: run.log("refused"))
        #expect(refused.status != 0, "\(refused.stdout)")
        #expect(refused.stdout.contains("--resume never: \(run.checkpoints) already holds 4 checkpoints of an earlier run"),
                "\(refused.stdout)")
        #expect(refused.stdout.contains("--overwrite"))
        #expect(try checkpointNames(run.checkpoints).count == 4)

        let fresh = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "20", "--resume", "never", "--overwrite"],
                                               log: run.log("fresh"))
        #expect(fresh.status == 0, "\(fresh.stdout)")
        #expect(fresh.stdout.contains("--overwrite: moved 4 checkpoints of \(run.checkpoints) into"), "\(fresh.stdout)")
        #expect(try checkpointNames(run.checkpoints) == ["ckpt-00000010.h5", "ckpt-00000020.h5"])
        let aside = try #require(try FileManager.default.contentsOfDirectory(atPath: run.checkpoints).first { $0.hasPrefix("replaced-") })
        #expect(try checkpointNames(run.checkpoints + "/" + aside).count == 4, "the old run's files must all be kept")
        let newID = try #require(try CheckpointFile.read(run.checkpoint(20)).extra[CheckpointFile.runIDKey])
        #expect(newID != oldID)

        // Before run ids, the next auto resume could take the old run's step 40.
        let resumed = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "30"], log: run.log("resumed"))
        #expect(resumed.status == 0, "\(resumed.stdout)")
        #expect(resumed.stdout.contains("resuming from \(run.checkpoint(20)): "), "\(resumed.stdout)")
        #expect(try CheckpointFile.read(run.checkpoint(30)).extra[CheckpointFile.runIDKey] == newID)
    }

    @Test("--resume auto in a directory mixing two runs' checkpoints (copied in by hand) is refused, naming the files of the other run")
    func autoRefusesMixedRuns() throws {
        let a = try RunFolder(scratch, "run-a", flags: ["--model", "mlp", "--hidden", "16", "--checkpoint-every", "10"])
        let b = try RunFolder(scratch, "run-b", flags: ["--model", "mlp", "--hidden", "16", "--checkpoint-every", "10"])
        #expect(try TestSupport.runTrainer(np: 1, a.command + ["--max-steps", "20"], log: a.log("a")).status == 0)
        #expect(try TestSupport.runTrainer(np: 1, b.command + ["--max-steps", "10"], log: b.log("b")).status == 0)
        try FileManager.default.copyItem(atPath: b.checkpoint(10), toPath: a.checkpoints + "/ckpt-00000005.h5")
        let before = try DirectorySnapshot(a.checkpoints)
        let out = try TestSupport.runTrainer(np: 1, a.command + ["--max-steps", "30"], log: a.log("mixed"))
        #expect(out.status != 0)
        #expect(out.stdout.contains("holds checkpoints of more than one run")
                && out.stdout.contains("\(a.checkpoints)/ckpt-00000005.h5 belongs to another"), "\(out.stdout)")
        #expect(try DirectorySnapshot(a.checkpoints) == before)
    }

    @Test("format_version is covered by the checksum; a newer format stops --resume auto with an error naming the file, which is never replaced or pruned")
    func newerFormatStopsAuto() throws {
        let run = try RunFolder(scratch, "newer", flags: ["--model", "mlp", "--hidden", "16", "--checkpoint-every", "10",
                                                          "--keep", "1"])
        let first = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "20"], log: run.log("first"))
        try #require(first.status == 0, "\(first.stdout)")
        // An older step rewritten as a newer format: the keep-1 pruning must not take it.
        let older = run.checkpoints + "/ckpt-00000005.h5"
        try FileManager.default.copyItem(atPath: run.checkpoint(20), toPath: older)
        for (path, version) in [(older, Int64(2)), (run.checkpoint(20), Int64(0))] {
            let file = try HDF5File.open(path, readOnly: false)
            try file.setAttribute("format_version", version)
            try file.close()
        }
        // Version 0 (not a newer one): the checksum no longer matches.
        #expect(throws: CheckpointError.self) { try CheckpointFile.read(run.checkpoint(20)) }
        do {
            _ = try CheckpointFile.read(run.checkpoint(20))
        } catch CheckpointError.metadataChecksumMismatch {
        } catch {
            Issue.record("a tampered format_version should fail the metadata checksum, got \(error)")
        }
        // Version 2 newest: auto stops, names it, and changes nothing.
        try FileManager.default.moveItem(atPath: older, toPath: run.checkpoints + "/ckpt-00000030.h5")
        let before = try DirectorySnapshot(run.checkpoints)
        let out = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "40"], log: run.log("auto"))
        #expect(out.status != 0)
        #expect(out.stdout.contains("\(run.checkpoints)/ckpt-00000030.h5 has format_version 2, and this program reads 1 and older"),
                "\(out.stdout)")
        #expect(try DirectorySnapshot(run.checkpoints) == before)
        let trainer = try #require(TestSupport.trainerExecutable)
        let inspect = try TestSupport.run(trainer, ["inspect", run.checkpoints])
        #expect(inspect.status != 0 && (inspect.stdout + inspect.stderr).contains("format_version 2"), "\(inspect.stdout)\(inspect.stderr)")
        // Left at an older step, a newer-format file survives pruning by a fresh run.
        try FileManager.default.moveItem(atPath: run.checkpoints + "/ckpt-00000030.h5", toPath: older)
        try FileManager.default.removeItem(atPath: run.checkpoint(20))  // keep 1: the only one of this program's
        let fresh = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "30", "--resume", "never", "--overwrite"],
                                               log: run.log("fresh"))
        #expect(fresh.status == 0, "\(fresh.stdout)")
        #expect(fresh.stdout.contains("--overwrite: moved 1 checkpoint of"), "\(fresh.stdout)")
    }

    @Test("Resuming with another --keep-best metric or --clip-grad-norm is refused naming it; a FIFO named like a checkpoint is skipped, not opened; a state gone infinite (--weight-decay 1e30) is never checkpointed")
    func featureResumeChecks() throws {
        let run = try RunFolder(scratch, "features", flags: ["--model", "mlp", "--hidden", "16", "--checkpoint-every", "10",
                                                             "--clip-grad-norm", "1"])
        let first = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "20", "--keep-best", "test_accuracy"], log: run.log("first"))
        try #require(first.status == 0, "\(first.stdout)")
        let metric = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "30", "--keep-best", "test_loss"], log: run.log("metric"))
        #expect(metric.status != 0 && metric.stdout.contains("--keep-best: the checkpoint's run keeps the best test_accuracy"),
                "\(metric.stdout)")
        let clip = try TestSupport.runTrainer(np: 1, run.command.map { $0 == "1" ? "2" : $0 } + ["--max-steps", "30", "--keep-best", "test_accuracy"],
                                              log: run.log("clip"))
        #expect(clip.status != 0 && clip.stdout.contains("--clip-grad-norm: the checkpoint's run clipped at 1.0, this run asks for 2.0"),
                "\(clip.stdout)")
        #expect(mkfifo(run.checkpoints + "/ckpt-00000025.h5", 0o644) == 0)
        let again = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "30", "--keep-best", "test_accuracy"],
                                               log: run.log("fifo"), seconds: 60)
        #expect(again.status == 0 && again.stdout.contains("skipping checkpoint \(run.checkpoints)/ckpt-00000025.h5: not a regular file"),
                "\(again.stdout)")

        let inf = try RunFolder(scratch, "infinite", flags: ["--model", "mlp", "--hidden", "16", "--weight-decay", "1e30"])
        let out = try TestSupport.runTrainer(np: 1, inf.command + ["--max-steps", "20"], log: inf.log("run"))
        #expect(out.status != 0 && out.stdout.contains("the optimizer's exp_avg_sq hold NaN or infinite values after step 20"),
                "\(out.stdout)")
        #expect(try CheckpointDirectory(inf.checkpoints).checkpoints().isEmpty)
    }

    @Test("A disk that fills up during a save: a clear error naming the temporary file and ENOSPC, exit 1 (no crash in libhdf5), the earlier checkpoints valid, no temporary file left")
    func fullDiskDuringASave() throws {
        // Three mlp checkpoints (1.2 MB each with Adam's moments) fit, the fourth does not.
        guard let mountPoint = try mountSmallDisk("small-disk", size: "3800k") else { return }
        defer { _ = try? TestSupport.run(URL(fileURLWithPath: "/bin/umount"), [mountPoint]) }
        let directory = mountPoint + "/run"
        let trainer = try #require(TestSupport.trainerExecutable)
        let out = try TestSupport.run(trainer, ["train", "--max-steps", "60", "--checkpoint-every", "10", "--keep", "10",
                                                "--checkpoint-dir", directory])
        #expect(out.status == 1, "exit \(out.status):\n\(out.stderr)")
        #expect(out.stderr.contains("saving a checkpoint failed: write '\(directory)/.ckpt-00000040.h5.tmp' failed: No space left on device"),
                "\(out.stderr)")
        #expect(!out.stderr.contains("crashed"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
                == ["ckpt-00000010.h5", "ckpt-00000020.h5", "ckpt-00000030.h5", "latest"])
        for step in [10, 20, 30] {
            #expect(try CheckpointFile.read(CheckpointDirectory(directory).path(of: CheckpointDirectory.fileName(globalStep: step))).globalStep == step)
        }
    }

    @Test("A full disk under --metrics: an error naming --metrics, the file and ENOSPC with a non-zero exit, not a trap; the checkpoints elsewhere stay valid")
    func fullDiskUnderTheMetrics() throws {
        guard let mountPoint = try mountSmallDisk("full-disk", size: "64k") else { return }
        defer { _ = try? TestSupport.run(URL(fileURLWithPath: "/bin/umount"), [mountPoint]) }
        // Fill it: the metrics file can be created (an inode) but not written.
        let filler = FileHandle(forWritingAtPath: mountPoint + "/filler") ?? {
            FileManager.default.createFile(atPath: mountPoint + "/filler", contents: nil)
            return FileHandle(forWritingAtPath: mountPoint + "/filler")!
        }()
        while (try? filler.write(contentsOf: Data(count: 4096))) != nil {}
        try? filler.close()
        let run = try RunFolder(scratch, "metrics-full", flags: ["--model", "mlp", "--hidden", "16", "--checkpoint-every", "5"])
        let metrics = mountPoint + "/metrics.jsonl"
        let out = try TestSupport.runTrainer(np: 1, ["train"] + run.flags + ["--checkpoint-dir", run.checkpoints, "--metrics", metrics,
                                                    "--max-steps", "10"], log: run.log("full"))
        #expect(out.status != 0 && out.status != 132, "exit \(out.status): \(out.stdout)")
        #expect(out.stdout.contains("--metrics: cannot append to \(metrics)") && out.stdout.contains("space"), "\(out.stdout)")
        #expect(try CheckpointFile.read(run.checkpoint(5)).globalStep == 5)
    }
}
