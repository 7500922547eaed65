import Checkpoint
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// End-to-end restarts with real processes: kill any rank of any job at any
/// moment, run the same command again (or let ./launch do it), and training
/// continues as if nothing happened: no sample lost or repeated, no good
/// checkpoint ever damaged.
///
/// Everything runs serially (the kill timings and the watchdog need the
/// cores), each test in its own temporary directory; the nested suites are
/// in this file, DamagedCheckpointTests.swift and CheckpointCommandTests.swift.
@Suite("Restarts: kill, stop and resume real trainer jobs", .serialized,
       .enabled(if: TestSupport.canRunRestartTests, "needs mpirun (openmpi-bin), Fashion-MNIST and the built trainer"))
enum RestartTests {
    /// A job the tests interrupt: its flags (without paths) and length.
    struct JobSpec: Sendable {
        let flags: [String]
        let steps: Int
        /// --checkpoint-every.
        let every: Int
        /// The newest checkpoint after which tests signal the job at the latest.
        let signalBy: Int
        let batch = 64
        /// Steps per epoch of Fashion-MNIST's 60,000 samples.
        var stepsPerEpoch: Int { 60_000 / batch }

        /// A random checkpoint step up to `signalBy`.
        func randomCheckpointStep() -> Int { every * Int.random(in: 1...(signalBy / every)) }
    }

    /// The job most tests run: a 784-32-10 MLP with Adam, 400 steps of
    /// global batch 64 (all inside the first epoch of 937 steps), a
    /// checkpoint every 25 steps. Alone it takes about 0.2 s of training.
    static let standardJob = JobSpec(flags: ["--model", "mlp", "--hidden", "32", "--max-steps", "400",
                                             "--checkpoint-every", "25"],
                                     steps: 400, every: 25, signalBy: 200)

    /// A job long enough for mpirun's way with SIGTERM: OpenMPI 4.1 sends
    /// the ranks SIGCONT, 1 s later SIGTERM, 1 s later SIGKILL
    /// (odls_base_sigkill_timeout), so it must still train 1 s after the
    /// signal: a 784-256-10 MLP, 1,600 steps across the first epoch's end.
    static let longJob = JobSpec(flags: ["--model", "mlp", "--hidden", "256", "--epochs", "2", "--max-steps", "1600",
                                         "--checkpoint-every", "50"],
                                 steps: 1600, every: 50, signalBy: 200)

    /// What to signal.
    enum Target: Sendable {
        /// One rank chosen at random (the trainer itself when alone).
        case randomRank
        /// The process the test started: mpirun, the lone trainer or ./launch.
        case started
    }

    /// A signal sent in the middle of a run.
    struct Signalled {
        /// What got it, in words ("rank 1 (pid 4242)").
        let victim: String
        /// The newest checkpoint's step when it was sent (nil: none yet).
        let latestStep: Int?
        let time: Date
    }

    /// Waits while `job` runs until `run`'s newest checkpoint reaches `step`
    /// (no wait for nil) and a random 0-`jitter` ms more, then sends
    /// `signal` to `target` among its `ranks` trainer processes. Nil if the
    /// job ended first.
    static func send(_ signal: Int32, to target: Target, of job: BackgroundProcess, ranks: Int,
                     afterCheckpoint step: Int?, in run: RunFolder, jitter: Int = 5) -> Signalled? {
        guard let pids = job.waitForRanks(ranks) else { return nil }
        if let step, TestSupport.waitForCheckpoint(run, step: step, while: job) == nil { return nil }
        usleep(UInt32.random(in: 0...UInt32(jitter * 1000)))
        let latest = run.latestStep
        let victims: [(String, pid_t)]
        switch target {
        case .randomRank:
            let rank = Int.random(in: 0..<ranks)
            victims = [("rank \(rank) (pid \(pids[rank]!))", pids[rank]!)]
        case .started:
            victims = [("\(job.executable.lastPathComponent) (pid \(job.pid))", job.pid)]
        }
        for (_, pid) in victims where kill(pid, signal) != 0 { return nil }
        return Signalled(victim: victims.map(\.0).joined(separator: ", "), latestStep: latest, time: Date())
    }

    /// Runs `attempt` up to `count` times until it returns a value: for
    /// timing-dependent set-ups (a job that finished before the signal
    /// landed is tried again in a fresh folder).
    static func retrying<T>(_ what: String, attempts count: Int = 3, _ attempt: (Int) throws -> T?) throws -> T {
        for number in 1...count {
            if let value = try attempt(number) { return value }
        }
        throw RetriesExhausted(what: what, count: count)
    }

    struct RetriesExhausted: Error, CustomStringConvertible {
        let what: String
        let count: Int
        var description: String { "\(what): did not happen in \(count) attempts" }
    }

    /// Runs `run`'s command again at world size `np` and checks that it
    /// resumes from the newest valid checkpoint and ends exactly where
    /// `reference`, a run never interrupted, ended: bitwise the same
    /// parameters, the same step and sample count, the same epoch train loss.
    static func expectRunAgainMatches(_ run: RunFolder, np: Int, job: JobSpec = standardJob,
                                      reference: UninterruptedRuns.Result, context: String) throws {
        let steps = job.steps
        let from = try #require(try CheckpointDirectory.latestValid(in: run.checkpoints).checkpoint,
                                "\(context): no valid checkpoint to resume from")
        #expect(from.state.globalStep < steps, "\(context): the job was not cut short")
        let out = try TestSupport.runTrainer(np: np, run.command, log: run.log("again"))
        #expect(out.status == 0, "\(context): running the command again exited \(out.status):\n\(out.stdout)")
        #expect(out.stdout.contains("resuming from \(from.path): "), "\(context): \(out.stdout)")
        let parameters = try #require(try run.finalParameters(), "\(context): no --save-parameters file")
        #expect(parameters == reference.parameters, "\(context): the parameters differ from the uninterrupted run's")
        let final = try CheckpointFile.read(run.checkpoint(steps))
        #expect(final.globalStep == steps && final.epoch * job.stepsPerEpoch + final.iteration == steps,
                "\(context): global step \(final.globalStep), epoch \(final.epoch), iteration \(final.iteration)")
        #expect(final.samplesSeen == steps * job.batch, "\(context): samples_seen \(final.samplesSeen)")
        // The epoch's loss sum is carried through the checkpoint: a step
        // done twice or skipped would change it.
        let trainLoss = try run.lastTrainLoss()
        #expect(isClose(trainLoss, reference.trainLoss, relative: 1e-12),
                "\(context): train_loss \(trainLoss), uninterrupted \(reference.trainLoss)")
    }
}

/// Runs never interrupted, each computed once per test process and shared
/// by the tests that compare with it.
final class UninterruptedRuns: @unchecked Sendable {
    struct Result {
        let parameters: [Float]
        /// `train_loss` of the last metrics line.
        let trainLoss: Double
    }

    static let shared = UninterruptedRuns()
    private let lock = NSLock()
    private var results: [String: Result] = [:]

    /// `trainer train flags` at world size `np`, run to the end.
    func result(np: Int, flags: [String]) throws -> Result {
        lock.lock()
        defer { lock.unlock() }
        let key = "np=\(np) " + flags.joined(separator: " ")
        if let result = results[key] { return result }
        let scratch = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let run = try RunFolder(scratch, "uninterrupted", flags: flags)
        let out = try TestSupport.runTrainer(np: np, run.command, log: run.log("run"))
        try #require(out.status == 0, "the uninterrupted run (\(key)) exited \(out.status):\n\(out.stdout)")
        let result = Result(parameters: try #require(try run.finalParameters()), trainLoss: try run.lastTrainLoss())
        results[key] = result
        return result
    }
}

extension RestartTests {
    @Suite("SIGKILL, SIGTERM, SIGSTOP and world-size changes, then the same command again")
    final class KillAndResume {
        let scratch: URL

        init() throws { scratch = try TestSupport.temporaryDirectory() }
        deinit { try? FileManager.default.removeItem(at: scratch) }

        @Test("SIGKILL one rank (np=2) or the trainer (alone) at a random step after a checkpoint: the job fails fast, and the same command again ends with bitwise the parameters of an uninterrupted run",
              arguments: [2, 1])
        func sigkillThenRunAgain(np: Int) throws {
            let reference = try UninterruptedRuns.shared.result(np: np, flags: standardJob.flags)
            let (run, signalled, status, job) = try retrying("a SIGKILL before the job finished") {
                (attempt: Int) -> (RunFolder, Signalled, Int32, BackgroundProcess)? in
                let run = try RunFolder(scratch, "killed-np\(np)-\(attempt)", flags: standardJob.flags)
                let job = try TestSupport.startTrainer(np: np, run.command, log: run.log("killed"))
                guard let signalled = send(SIGKILL, to: .randomRank, of: job, ranks: np,
                                           afterCheckpoint: standardJob.randomCheckpointStep(), in: run) else { return nil }
                let status = try TestSupport.finish(job, seconds: 30, what: "the killed job").status
                return try run.finalParameters() == nil ? (run, signalled, status, job) : nil
            }
            let context = "np=\(np), SIGKILL to \(signalled.victim) after checkpoint \(signalled.latestStep ?? -1)"
            #expect(status != 0, "\(context): exit status \(status)")
            if np == 1 { #expect(job.endedBySignal && status == SIGKILL) }
            let seconds = Date().timeIntervalSince(signalled.time)
            #expect(seconds < 10, "\(context): the job took \(seconds) s to end")
            let newest = try #require(try CheckpointDirectory.latestValid(in: run.checkpoints).checkpoint)
            #expect(newest.state.globalStep >= signalled.latestStep ?? 0, "\(context): a complete checkpoint vanished")
            try expectRunAgainMatches(run, np: np, reference: reference, context: context)
        }

        enum StopTarget: String, CaseIterable, Sendable {
            /// The trainer alone.
            case alone
            /// One rank of np=2 (the other learns of it at the next step).
            case oneRank
            /// mpirun of np=2: OpenMPI 4.1 forwards SIGTERM to every rank
            /// and SIGKILLs them 1 s later (odls_base_sigkill_timeout).
            case mpirun
        }

        @Test("SIGTERM (alone, to one rank, or to mpirun, which forwards it): the step finishes, a checkpoint is written, the message says how to resume; the same command again ends bitwise as an uninterrupted run (alone, one rank)",
              arguments: StopTarget.allCases)
        func sigtermThenRunAgain(_ target: StopTarget) throws {
            let np = target == .alone ? 1 : 2
            let spec = target == .mpirun ? longJob : standardJob
            let (run, signalled, status) = try retrying("a SIGTERM before the job finished") {
                (attempt: Int) -> (RunFolder, Signalled, Int32)? in
                let run = try RunFolder(scratch, "sigterm-\(target)-\(attempt)", flags: spec.flags)
                let job = try TestSupport.startTrainer(np: np, run.command, log: run.log("stopped"))
                guard let signalled = send(SIGTERM, to: target == .mpirun ? .started : .randomRank, of: job, ranks: np,
                                           afterCheckpoint: spec.randomCheckpointStep(), in: run) else { return nil }
                let status = try TestSupport.finish(job, seconds: 30, what: "the SIGTERMed job").status
                return try run.finalParameters() == nil ? (run, signalled, status) : nil
            }
            let context = "SIGTERM to \(signalled.victim) after checkpoint \(signalled.latestStep ?? -1)"
            let output = try String(contentsOf: run.log("stopped"), encoding: .utf8)
            let stopped = /stopped by SIGTERM after step (\d+); checkpoint (\S+); run the same command again to resume/
            let message = try #require(output.firstMatch(of: stopped),
                                       "\(context): no stop message in:\n\(output)")
            let step = try #require(Int(message.output.1))
            #expect(String(message.output.2) == run.checkpoint(step))
            #expect(step >= signalled.latestStep ?? 0 && step < spec.steps)
            #expect(run.latestStep == step)
            #expect(try CheckpointDirectory(run.checkpoints).temporaryFiles().isEmpty)
            let saved = try CheckpointFile.read(run.checkpoint(step))
            #expect(saved.globalStep == step && saved.epoch * spec.stepsPerEpoch + saved.iteration == step)
            #expect(saved.samplesSeen == step * spec.batch)
            guard target != .mpirun else {
                // OpenMPI's mpirun reports a job it was told to terminate as
                // failed (exit 1) whatever the ranks do, and SIGKILLs them 1 s
                // after their SIGTERM (they wait in MPI_Finalize for daemons
                // that are shutting down): the checkpoint, complete before
                // the message, is what counts; the other two cases resume.
                return
            }
            #expect(status == 0, "\(context): exit status \(status):\n\(output)")
            let reference = try UninterruptedRuns.shared.result(np: np, flags: spec.flags)
            try expectRunAgainMatches(run, np: np, job: spec, reference: reference, context: context)
        }

        @Test("A stuck rank (SIGSTOP, np=2, --step-timeout 3): the watchdog aborts the job within seconds, naming --step-timeout, no rank is left behind, and the same command again finishes as if nothing happened")
        func watchdogAbortsAStuckJob() throws {
            let reference = try UninterruptedRuns.shared.result(np: 2, flags: standardJob.flags)
            let (run, signalled, status, job) = try retrying("a SIGSTOP before the job finished") {
                (attempt: Int) -> (RunFolder, Signalled, Int32, BackgroundProcess)? in
                let run = try RunFolder(scratch, "stuck-\(attempt)", flags: standardJob.flags + ["--step-timeout", "3"])
                let job = try TestSupport.startTrainer(np: 2, run.command, log: run.log("stuck"))
                guard let signalled = send(SIGSTOP, to: .randomRank, of: job, ranks: 2,
                                           afterCheckpoint: standardJob.randomCheckpointStep(), in: run) else { return nil }
                let status = try TestSupport.finish(job, seconds: 40, what: "the job with a stopped rank").status
                return try run.finalParameters() == nil ? (run, signalled, status, job) : nil
            }
            let context = "SIGSTOP to \(signalled.victim) after checkpoint \(signalled.latestStep ?? -1)"
            let seconds = Date().timeIntervalSince(signalled.time)
            let output = try String(contentsOf: run.log("stuck"), encoding: .utf8)
            #expect(status != 0, "\(context): exit status \(status)")
            #expect(seconds >= 2.5 && seconds < 15, "\(context): the job ended \(seconds) s after the SIGSTOP")
            #expect(output.contains("no progress for") && output.contains("(--step-timeout)"), "\(context):\n\(output)")
            usleep(200_000)
            #expect(job.leftoverTrainers().isEmpty, "\(context): ranks left behind")
            job.stop()  // continues and kills a rank left stopped, if any
            try expectRunAgainMatches(run, np: 2, reference: reference, context: context)
        }

        @Test("--deterministic: checkpoint at np=4, resume at np=2, then alone across an epoch end: every checkpoint, the metrics lines and the final parameters are bitwise those of an uninterrupted single-process run",
              arguments: ["sgd", "adam"])
        func changeWorldSize(optimizer: String) throws {
            // Global batch 500: 120 steps per epoch, so the last leg crosses the end of the first epoch.
            // Four micro-batches of 125, fixed when the run starts at np=4 and kept by its checkpoints.
            let batch = 500, every = 50
            let flags = ["--model", "mlp", "--hidden", "32", "--batch-size", String(batch), "--epochs", "3",
                         "--checkpoint-every", String(every), "--keep", "10", "--deterministic"]
                + (optimizer == "sgd" ? ["--optimizer", "sgd", "--lr", "0.02", "--momentum", "0.5"] : ["--optimizer", "adam"])
            let legs = [(np: 4, steps: 50), (np: 2, steps: 100), (np: 1, steps: 150)]
            let chain = try RunFolder(scratch, "chain-\(optimizer)", flags: flags)
            for (index, leg) in legs.enumerated() {
                let out = try TestSupport.runTrainer(np: leg.np, chain.command + ["--max-steps", String(leg.steps)],
                                                     log: chain.log("np\(leg.np)"))
                try #require(out.status == 0, "np=\(leg.np) exited \(out.status):\n\(out.stdout)")
                #expect(out.stdout.contains("deterministic (4 micro-batches of 125)"), "np=\(leg.np):\n\(out.stdout)")
                if index > 0 {
                    let previous = legs[index - 1]
                    let line = "resuming from \(chain.checkpoint(previous.steps)): epoch 1, step \(previous.steps) of the "
                        + "epoch, global step \(previous.steps) (saved at world size \(previous.np), now \(leg.np))"
                    #expect(out.stdout.contains(line), "np=\(leg.np):\n\(out.stdout)")
                }
            }
            let straight = try RunFolder(scratch, "straight-\(optimizer)", flags: flags + ["--micro-batches", "4"])
            let out = try TestSupport.runTrainer(np: 1, straight.command + ["--max-steps", "150"], log: straight.log("np1"))
            try #require(out.status == 0, "the uninterrupted run exited \(out.status):\n\(out.stdout)")

            // Every checkpoint both runs wrote: 50 (np=4), 100 (np=2), 120 (end of epoch 1, alone), 150.
            let savedAt = [50: 4, 100: 2, 120: 1, 150: 1]
            for (step, worldSize) in savedAt.sorted(by: { $0.key < $1.key }) {
                let a = try CheckpointFile.read(chain.checkpoint(step))
                let b = try CheckpointFile.read(straight.checkpoint(step))
                let context = "\(optimizer), step \(step)"
                #expect(a.globalStep == step && a.samplesSeen == step * batch, "\(context)")
                #expect(a.epoch == b.epoch && a.iteration == b.iteration,
                        "\(context): epoch \(a.epoch) iteration \(a.iteration), uninterrupted \(b.epoch) \(b.iteration)")
                #expect(a.samplesSeen == b.samplesSeen && a.optimizer.step == b.optimizer.step)
                #expect(a.worldSize == worldSize && b.worldSize == 1)
                for key in ["epoch_samples", "epoch_loss_sum", "micro_batches", "deterministic"] {
                    #expect(a.extra[key] != nil && a.extra[key] == b.extra[key], "\(context): \(key) \(a.extra) \(b.extra)")
                }
                #expect(a.parameters.values == b.parameters.values, "\(context): parameters differ")
                #expect(a.optimizer.buffers.keys.sorted() == b.optimizer.buffers.keys.sorted())
                for (name, buffer) in b.optimizer.buffers {
                    #expect(a.optimizer.buffers[name] == buffer, "\(context): \(name) differs")
                }
            }
            #expect(try CheckpointDirectory(chain.checkpoints).checkpoints().map(\.globalStep) == [50, 100, 120, 150])

            // The metrics lines: the lines for the partial first epoch at np=4 (50 steps) and np=2
            // (100) were dropped by the resumes that went on with that epoch, so the file holds the
            // full first epoch (120 steps) and 30 steps of the second, as the uninterrupted run wrote them.
            let chained = try TestSupport.comparableRecords(chain.metrics)
            let uninterrupted = try TestSupport.comparableRecords(straight.metrics)
            #expect(uninterrupted.count == 2 && chained == uninterrupted, "\(chained)\n\(uninterrupted)")
            #expect(try chain.finalParameters() == straight.finalParameters(), "\(optimizer): final parameters differ")
        }

        @Test("SIGKILL while a 20 MB checkpoint is being written: the previous checkpoint stays valid and is the one used, the unfinished file is reported and removed, and the run ends bitwise as an uninterrupted one")
        func killDuringCheckpointWrite() throws {
            // 784-2048-10 with Adam: 1.6 M parameters, three buffers per checkpoint.
            let flags = ["--model", "mlp", "--hidden", "2048", "--max-steps", "30", "--checkpoint-every", "5"]
            let reference = try UninterruptedRuns.shared.result(np: 1, flags: flags)
            let (run, temporary) = try retrying("a SIGKILL in the middle of a checkpoint write", attempts: 5) {
                (attempt: Int) -> (RunFolder, String)? in
                let run = try RunFolder(scratch, "wide-\(attempt)", flags: flags)
                let job = try TestSupport.startTrainer(np: 1, run.command, log: run.log("killed"))
                defer { job.stop() }
                let directory = CheckpointDirectory(run.checkpoints)
                let deadline = Date().addingTimeInterval(120)
                while job.isRunning && Date() < deadline {
                    if run.latestStep != nil,
                       let temporary = try directory.temporaryFiles().first(where: { $0.hasSuffix(".h5.tmp") }),
                       fileSize(temporary) > 1_000_000 {
                        kill(job.pid, SIGKILL)
                        _ = job.wait(seconds: 10)
                        // The write may have finished between the look and the kill.
                        return FileManager.default.fileExists(atPath: temporary) ? (run, temporary) : nil
                    }
                    usleep(500)
                }
                return nil
            }
            let name = URL(fileURLWithPath: temporary).lastPathComponent  // .ckpt-00000015.h5.tmp
            let killedStep = try #require(CheckpointDirectory.globalStep(fromFileName: String(name.dropFirst().dropLast(4))))
            let directory = CheckpointDirectory(run.checkpoints)
            let search = try directory.latestValid()
            let found = try #require(search.checkpoint, "no valid checkpoint after a kill during the write of step \(killedStep)")
            #expect(search.skipped.isEmpty, "\(search.skipped)")
            #expect(search.temporaryFiles == [temporary])
            let complete = try directory.checkpoints()
            #expect(complete.allSatisfy { $0.globalStep < killedStep }, "\(complete)")
            #expect(found.path == complete.last?.path)
            for entry in complete { #expect(throws: Never.self) { try CheckpointFile.read(entry.path) } }
            let latest = try #require(directory.latest())
            #expect(complete.map(\.path).contains(directory.path(of: latest)), "latest names \(latest)")

            let out = try TestSupport.runTrainer(np: 1, run.command, log: run.log("again"))
            #expect(out.status == 0, "exit \(out.status):\n\(out.stdout)")
            #expect(out.stdout.contains("note: ignoring \(temporary), left by a save that never finished"), "\(out.stdout)")
            #expect(out.stdout.contains("resuming from \(found.path): "), "\(out.stdout)")
            #expect(try directory.temporaryFiles().isEmpty)
            #expect(try run.finalParameters() == reference.parameters, "killed writing step \(killedStep)")
        }

        @Test("A periodic checkpoint on an epoch's last step records the next epoch's start: resuming from it neither evaluates nor reports that epoch again, and ends bitwise as an uninterrupted run")
        func checkpointAtAnEpochEnd() throws {
            // Global batch 500: 120 steps per epoch, a checkpoint every 60 steps.
            let flags = ["--model", "mlp", "--hidden", "32", "--batch-size", "500", "--epochs", "2",
                         "--checkpoint-every", "60", "--keep", "10"]
            let reference = try UninterruptedRuns.shared.result(np: 1, flags: flags + ["--max-steps", "150"])
            let run = try RunFolder(scratch, "epoch-end", flags: flags)
            let first = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "130"], log: run.log("first"))
            try #require(first.status == 0, "\(first.stdout)")
            let saved = try CheckpointFile.read(run.checkpoint(120))
            #expect(saved.epoch == 1 && saved.iteration == 0, "ckpt 120: epoch \(saved.epoch), iteration \(saved.iteration)")

            // As after a crash between steps 120 and 180: resume from the epoch-end checkpoint.
            // The directory has gone past it (step 130): refused, then taken over with --overwrite.
            let resume = run.command + ["--max-steps", "150", "--resume", run.checkpoint(120)]
            let refused = try TestSupport.runTrainer(np: 1, resume, log: run.log("refused"))
            #expect(refused.status != 0 && refused.stdout.contains("ckpt-00000130.h5: another run's, or later steps of this one"),
                    "\(refused.stdout)")
            let again = try TestSupport.runTrainer(np: 1, resume + ["--overwrite"], log: run.log("again"))
            #expect(again.status == 0, "\(again.stdout)")
            #expect(again.stdout.contains("--overwrite: moved 1 checkpoint of"), "\(again.stdout)")
            #expect(again.stdout.contains("resuming from \(run.checkpoint(120)): epoch 2, step 0 of the epoch, global step 120"),
                    "\(again.stdout)")
            #expect(!again.stdout.contains("epoch 1/2:"), "epoch 1 reported again:\n\(again.stdout)")
            let metrics = try String(contentsOfFile: run.metrics, encoding: .utf8).split(separator: "\n")
            let epochs = try metrics.map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["epoch"] as? Int
            }
            // The first run's line for part of epoch 2 (step 130) was dropped: epoch 2 is reported once.
            #expect(epochs == [1, 2], "\(metrics.joined(separator: "\n"))")
            #expect(try run.finalParameters() == reference.parameters)
            #expect(isClose(try run.lastTrainLoss(), reference.trainLoss, relative: 1e-12))
        }

        /// The size of the file at `path`, 0 once it is gone.
        func fileSize(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        }
    }
}

extension RestartTests {
    @Suite("./launch -np N --max-restarts R relaunches failed jobs")
    final class Launcher {
        let scratch: URL

        init() throws { scratch = try TestSupport.temporaryDirectory() }
        deinit { try? FileManager.default.removeItem(at: scratch) }

        /// Starts `./launch arguments` with the trainer these tests built.
        func startLaunch(_ arguments: [String], log: URL) throws -> BackgroundProcess {
            try TestSupport.startLaunch(arguments, log: log)
        }

        func attempts(_ output: String) -> Int {
            output.split(separator: "\n").filter { $0.hasPrefix("[launch] mpirun ") }.count
        }

        @Test("A rank SIGKILLed at a random moment: launch relaunches with --resume auto, and the job ends with exit 0 and bitwise the parameters of an uninterrupted run")
        func relaunchesAKilledJob() throws {
            let reference = try UninterruptedRuns.shared.result(np: 2, flags: standardJob.flags)
            let (run, signalled, out) = try retrying("a SIGKILL before the launched job finished") {
                (attempt: Int) -> (RunFolder, Signalled, TestSupport.Output)? in
                let run = try RunFolder(scratch, "launched-\(attempt)", flags: standardJob.flags)
                let job = try startLaunch(["-np", "2", "--max-restarts", "3"] + run.command, log: run.log("launch"))
                // Before the first checkpoint (during start-up) one time in nine.
                let step = Int.random(in: 0...(standardJob.signalBy / standardJob.every)) * standardJob.every
                guard let signalled = send(SIGKILL, to: .randomRank, of: job, ranks: 2, afterCheckpoint: step == 0 ? nil : step,
                                           in: run, jitter: step == 0 ? 300 : 5) else { return nil }
                let out = try TestSupport.finish(job, seconds: 120, what: "./launch")
                return attempts(out.stdout) > 1 ? (run, signalled, out) : nil
            }
            let context = "SIGKILL to \(signalled.victim) after checkpoint \(signalled.latestStep ?? -1)"
            #expect(out.status == 0, "\(context): launch exited \(out.status):\n\(out.stdout)")
            #expect(attempts(out.stdout) == 2, "\(context):\n\(out.stdout)")
            #expect(out.stdout.contains("[launch] job failed (exit ") && out.stdout.contains("restart 1 of 3"))
            if signalled.latestStep != nil { #expect(out.stdout.contains("resuming from \(run.checkpoints)/ckpt-")) }
            #expect(try run.finalParameters() == reference.parameters, "\(context): parameters differ")
            let final = try CheckpointFile.read(run.checkpoint(standardJob.steps))
            #expect(final.globalStep == standardJob.steps && final.samplesSeen == standardJob.steps * standardJob.batch)
        }

        @Test("A job that fails at the same checkpoint every time (resumed with another --lr, which is refused): launch restarts it once, then gives up with the 'no progress' message and a non-zero exit, the checkpoints untouched")
        func givesUpWithoutProgress() throws {
            let run = try RunFolder(scratch, "diverging", flags: ["--model", "mlp", "--hidden", "32", "--optimizer", "sgd",
                                                                 "--checkpoint-every", "20"])
            let good = try TestSupport.runTrainer(np: 1, run.command + ["--lr", "0.05", "--max-steps", "40"], log: run.log("good"))
            try #require(good.status == 0, "\(good.stdout)")
            let before = try DirectorySnapshot(run.checkpoints)
            let job = try startLaunch(["-np", "2", "--max-restarts", "3"] + run.command + ["--lr", "1e30", "--max-steps", "100"],
                                      log: run.log("launch"))
            let out = try TestSupport.finish(job, seconds: 120, what: "./launch")
            #expect(out.status != 0)
            #expect(attempts(out.stdout) == 2, "\(out.stdout)")
            #expect(out.stdout.contains("restart 1 of 3"))
            #expect(out.stdout.contains("without getting past checkpoint step 40; not restarting"), "\(out.stdout)")
            #expect(out.stdout.contains("--lr: the checkpoint's optimizer has lr 0.05"), "\(out.stdout)")
            #expect(try DirectorySnapshot(run.checkpoints) == before)
        }
    }
}
