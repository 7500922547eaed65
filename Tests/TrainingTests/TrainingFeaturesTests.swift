import Checkpoint
import Foundation
import Glibc
import RunLog
import Testing
import Training
#if canImport(Glibc)
#endif

/// The training features of issue 14 end to end, under real mpirun and real
/// kills: schedules, clipping, accumulation, RMSprop and AdamW, Dropout and
/// BatchNorm, TensorBoard logs, validation, best-model keeping and early
/// stopping. Each keeps the two promises: the same result at any world size
/// (bitwise with --deterministic; within rounding for SyncBatchNorm, which
/// that mode refuses) and a resumed run equal to an uninterrupted one.
extension DataParallelTests {
    /// One flag set with every optimisation feature on at once: Dropout,
    /// AdamW, a per-step warm-up + cosine schedule, clipping, and two
    /// micro-batches per rank at np=4 (the default M of --accumulate 2 at np=4 is 8).
    static let featureFlags = ["--model", "mlp", "--hidden", "32", "--dropout", "0.2", "--optimizer", "adamw",
                               "--lr-schedule", "warmup-cosine", "--lr-warmup", "5", "--lr-t-max", "30",
                               "--lr-schedule-unit", "step", "--clip-grad-norm", "0.5", "--max-steps", "30",
                               "--val-fraction", "0.1", "--deterministic", "--micro-batches", "8"]

    @Test("--deterministic with Dropout, AdamW, warmup-cosine per step, clipping and a validation split: bitwise equal at np=1, 2 and 4 (val_loss included); the metrics carry lr and grad_norm")
    func featuresAreWorldSizeIndependent() throws {
        let one = try train(np: 1, Self.featureFlags)
        for np in [2, 4] {
            // By construction: --deterministic's micro-batches have one shape at every world size.
            expectBitwiseEqual(one, try train(np: np, Self.featureFlags), "np=\(np)")
        }
        let line = try #require(one.records.last)
        #expect(line.contains("\"lr\":") && line.contains("\"grad_norm\":") && line.contains("\"val_loss\":"), "\(line)")
        #expect(one.state.scheduler?.type == "warmup_cosine" && one.state.scheduler?.scalars["last_epoch"] == 30,
                "\(String(describing: one.state.scheduler))")
    }

    @Test("RMSprop (centered, momentum) under --deterministic: bitwise equal at np=1, 2 and 4; its state is in the checkpoint by torch's names")
    func rmspropIsWorldSizeIndependent() throws {
        let flags = ["--model", "mlp", "--hidden", "32", "--optimizer", "rmsprop", "--lr", "0.001", "--momentum", "0.5",
                     "--centered", "--max-steps", "20", "--deterministic", "--micro-batches", "4"]
        let one = try train(np: 1, flags)
        for np in [2, 4] {
            // By construction: --deterministic's micro-batches have one shape at every world size.
            expectBitwiseEqual(one, try train(np: np, flags), "np=\(np)")
        }
        #expect(one.state.optimizer.type == "rmsprop")
        #expect(one.state.optimizer.buffers.keys.sorted() == ["grad_avg", "momentum_buffer", "square_avg"])
    }

    @Test("--accumulate in the default mode: the same global batch in several passes per rank gives the parameters of one pass within rounding (np=1 and 2 with 4 passes, np=4 with 2)")
    func accumulationMatchesOnePass() throws {
        // The deep auto-encoder (tanh/sigmoid, no kinks) keeps rounding differences small.
        let flags = ["--model", "deep-autoencoder", "--layers", "32", "--optimizer", "sgd", "--lr", "0.5", "--max-steps", "50"]
        let whole = try train(np: 1, flags)
        for (np, k) in [(1, 4), (2, 4), (4, 2)] {
            let accumulated = try train(np: np, flags + ["--accumulate", String(k)])
            let worst = zip(whole.parameters, accumulated.parameters).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-4, "np=\(np) --accumulate \(k): largest parameter difference \(worst)")
        }
    }

    @Test("cnn-bn (SyncBatchNorm): np=2 and np=4 match np=1 within rounding, running statistics included, so BatchNorm sees the global batch; the buffers are in the checkpoint under /model")
    func batchNormIsSynchronised() throws {
        // SGD: Adam would turn the convolutions' bias gradients, zero up to rounding
        // in front of BatchNorm, into full-size steps of arbitrary sign.
        let flags = ["--model", "cnn-bn", "--max-steps", "6", "--batch-size", "32", "--optimizer", "sgd", "--lr", "0.1"]
        let one = try train(np: 1, flags)
        let names = one.state.buffers.layout.names
        #expect(names.contains { $0.hasSuffix(".running_mean") } && names.contains { $0.hasSuffix(".num_batches_tracked") }, "\(names)")
        #expect(one.state.buffers[names.first { $0.hasSuffix("num_batches_tracked") }!] == [6])
        let loss = { (o: Outcome) in Double(o.state.extra["epoch_loss_sum"] ?? "") ?? .nan }
        for np in [2, 4] {
            let other = try train(np: np, flags)
            for name in names {
                let a = try #require(one.state.buffers[name]), b = try #require(other.state.buffers[name])
                let worst = zip(a, b).map { abs($0 - $1) / max(abs($0), 1e-3) }.max() ?? 0
                #expect(worst < 1e-3, "np=\(np) \(name): relative difference \(worst) (local statistics would differ by far more)")
            }
            #expect(isClose(loss(one), loss(other), relative: 1e-4), "np=\(np): epoch loss \(loss(one)) vs \(loss(other))")
        }
    }

    @Test("--deterministic refuses a model with BatchNorm, naming the flag and why")
    func deterministicRefusesBatchNorm() throws {
        let out = try TestSupport.run(try #require(TestSupport.trainerExecutable),
                                      ["train", "--model", "cnn-bn", "--deterministic", "--max-steps", "1",
                                       "--checkpoint-dir", directory.appendingPathComponent("refused").path])
        #expect(out.status != 0 && out.stderr.contains("--deterministic: the model has buffers"), "\(out.stderr)")
    }
}

extension RestartTests {
    @Suite("Schedules, accumulation, Dropout, BatchNorm, TensorBoard, best model and early stopping across kills")
    final class TrainingFeatures {
        let scratch: URL

        init() throws { scratch = try TestSupport.temporaryDirectory() }
        deinit { try? FileManager.default.removeItem(at: scratch) }

        /// SIGKILLs `flags`' job after its checkpoint at `killAfter`, runs the
        /// same command again, and expects the final parameters of an
        /// uninterrupted run.
        private func killAndResume(_ name: String, np: Int, flags: [String], referenceFlags: [String]? = nil,
                                   killAfter: Int) throws -> RunFolder {
            let reference = try UninterruptedRuns.shared.result(np: np, flags: referenceFlags ?? flags)
            let run = try RunFolder(scratch, name, flags: flags)
            let job = try TestSupport.startTrainer(np: np, run.command, log: run.log("first"))
            defer { job.stop() }
            try #require(TestSupport.waitForCheckpoint(run, step: killAfter, while: job, seconds: 120) != nil,
                         "no checkpoint \(killAfter):\n\(job.output)")
            for pid in job.trainerRanks().values { kill(pid, SIGKILL) }
            kill(job.pid, SIGKILL)
            _ = job.wait(seconds: 30)
            let out = try TestSupport.runTrainer(np: np, run.command, log: run.log("again"), seconds: 300)
            #expect(out.status == 0, "\(out.stdout)")
            #expect(out.stdout.contains("resuming from "), "\(out.stdout)")
            #expect(try run.finalParameters() == reference.parameters, "\(name): the resumed run differs from the uninterrupted one")
            return run
        }

        @Test("Dropout, AdamW, a per-step schedule, clipping and accumulation (--deterministic, np=2): SIGKILL, resume, bitwise the uninterrupted run; TensorBoard holds each step once")
        func optimisationFeaturesResumeExactly() throws {
            let tensorboard = scratch.appendingPathComponent("tb").path
            let flags = DataParallelTests.featureFlags.map { $0 == "30" ? "120" : $0 } + ["--checkpoint-every", "20"]
            // The uninterrupted reference writes its own events elsewhere.
            _ = try killAndResume("features", np: 2, flags: flags + ["--tensorboard", tensorboard],
                                  referenceFlags: flags + ["--tensorboard", scratch.appendingPathComponent("tb-reference").path],
                                  killAfter: 40)
            let events = try TensorBoardEventFile.readDirectory(tensorboard)
            let steps = events.filter { $0.scalars.contains { $0.tag == "train/loss" } }.map(\.step)
            #expect(steps.count == Set(steps).count, "a step was logged twice: \(steps)")
            #expect(Set(steps).isSuperset(of: 1...120), "missing steps: \(Set(1...120).subtracting(steps).sorted())")
        }

        @Test("cnn-bn in the default mode: SIGKILL, resume, bitwise the uninterrupted run (running statistics restored from the checkpoint); trainer eval on its checkpoint reproduces the run's test figures")
        func batchNormResumesExactly() throws {
            let run = try killAndResume("batchnorm", np: 1, flags: ["--model", "cnn-bn", "--max-steps", "40", "--batch-size", "32",
                                                                    "--checkpoint-every", "10", "--lr-schedule", "step",
                                                                    "--lr-step-size", "1", "--lr-schedule-unit", "step", "--lr-gamma", "0.98"],
                                        killAfter: 20)
            let metrics = try String(contentsOfFile: run.metrics, encoding: .utf8)
            let last = try #require(metrics.split(separator: "\n").last)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
            let accuracy = try #require(object["test_accuracy"] as? Double)
            let eval = try TestSupport.run(try #require(TestSupport.trainerExecutable), ["eval", "--checkpoint", run.checkpoint(40)])
            #expect(eval.status == 0 && eval.stdout.contains(String(format: "test_accuracy %.4f", accuracy)), "\(eval.stdout)\(eval.stderr)")
        }

        @Test("--val-fraction, --keep-best test_accuracy and --early-stop 2 with a rate too small to change anything: best.h5 holds epoch 1, the run stops after epoch 3, a SIGKILL during epoch 3 changes nothing (np=2: every rank stops alike), and the command again says it has nothing to do")
        func earlyStoppingIsExact() throws {
            let flags = ["--model", "mlp", "--hidden", "16", "--optimizer", "sgd", "--lr", "1e-12", "--batch-size", "500",
                         "--epochs", "8", "--val-fraction", "0.1", "--keep-best", "test_accuracy", "--early-stop", "2",
                         "--keep", "1", "--checkpoint-every", "30"]
            let run = try killAndResume("early-stop", np: 2, flags: flags, killAfter: 240)  // 108 steps per epoch
            let metrics = try String(contentsOfFile: run.metrics, encoding: .utf8).split(separator: "\n")
            #expect(metrics.count == 3, "\(metrics.joined(separator: "\n"))")
            #expect(metrics.allSatisfy { $0.contains("\"val_loss\":") && $0.contains("\"val_accuracy\":") })
            let best = try CheckpointFile.read(run.checkpoints + "/best.h5")
            #expect(best.epoch == 1 && best.globalStep == 108, "best.h5 at epoch \(best.epoch), step \(best.globalStep)")
            #expect(try CheckpointDirectory(run.checkpoints).checkpoints().count == 1, "--keep 1 prunes the rolling ones only")
            let again = try TestSupport.runTrainer(np: 2, run.command, log: run.log("third"))
            #expect(again.status == 0 && again.stdout.contains("nothing to do: test_accuracy has not improved for 2 epoch(s)"),
                    "\(again.stdout)")
        }
    }
}
