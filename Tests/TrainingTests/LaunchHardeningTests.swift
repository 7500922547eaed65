import Checkpoint
import Foundation
import Testing
import Training

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ./launch where a user's input or a user's signal met it unprepared: a
/// hostfile "host" that is an ssh option, a signal that left the job
/// training unsupervised, restarts on an error that never goes away, paths
/// taken from the project's folder instead of the caller's, and a `latest`
/// pointer that blocks a read. Each runs the real script (LAUNCH_SKIP_BUILD,
/// TRAINER: the trainer these tests built).
@Suite("./launch hardening: hostfile hosts, signals, permanent errors, the caller's paths, the latest pointer", .serialized,
       .enabled(if: TestSupport.canRunRestartTests, "needs mpirun (openmpi-bin), Fashion-MNIST and the built trainer"))
final class LaunchHardeningTests {
    let scratch: URL

    init() throws { scratch = try TestSupport.temporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    /// How many times ./launch started mpirun.
    func attempts(_ output: String) -> Int {
        output.split(separator: "\n").filter { $0.hasPrefix("[launch] mpirun ") }.count
    }

    @Test("A hostfile whose host is an ssh option (-oProxyCommand=...) is refused before anything runs: exit 2, naming the hostfile, the line and the entry, and the command never runs")
    func hostfileOptionIsRefused() throws {
        let witness = scratch.appendingPathComponent("proxy-command-ran-\(UUID().uuidString)").path
        let hostfile = scratch.appendingPathComponent("hosts")
        // ssh runs a ProxyCommand through the shell: ${IFS} is its space.
        let entry = "-oProxyCommand=touch${IFS}\(witness)"
        try "# the cluster\nlocalhost slots=1\n\(entry) slots=1\n".write(to: hostfile, atomically: true, encoding: .utf8)
        let run = try RunFolder(scratch, "hostfile", flags: ["--model", "mlp", "--hidden", "8", "--max-steps", "3"])
        let job = try TestSupport.startLaunch(["-np", "2", "--hostfile", hostfile.path, "--min-np", "1", "--max-restarts", "1"]
                                              + run.command, log: run.log("launch"))
        let out = try TestSupport.finish(job, seconds: 60, what: "./launch with a hostfile holding an ssh option")
        #expect(out.status == 2, "exit \(out.status):\n\(out.stdout)")
        #expect(out.stdout.contains("[launch] --hostfile \(hostfile.path): line 3: '\(entry)' is not a host name or address"),
                "\(out.stdout)")
        #expect(attempts(out.stdout) == 0, "\(out.stdout)")
        #expect(!FileManager.default.fileExists(atPath: witness), "the hostfile's ProxyCommand ran")
    }

    @Test("A garbage hostfile line (a setting that is not key=value) is refused before mpirun runs, with exit 2 and no restart, instead of failing mpirun's parse at every restart")
    func garbageHostfileIsRefused() throws {
        let hostfile = scratch.appendingPathComponent("garbage-hosts")
        try "localhost slots=1\nlocalhost slots two\n".write(to: hostfile, atomically: true, encoding: .utf8)
        let run = try RunFolder(scratch, "garbage", flags: ["--model", "mlp", "--hidden", "8", "--max-steps", "3"])
        let job = try TestSupport.startLaunch(["-np", "1", "--hostfile", hostfile.path, "--max-restarts", "3"] + run.command,
                                              log: run.log("launch"))
        let out = try TestSupport.finish(job, seconds: 60, what: "./launch with a garbage hostfile")
        #expect(out.status == 2, "exit \(out.status):\n\(out.stdout)")
        #expect(out.stdout.contains("[launch] --hostfile \(hostfile.path): line 2: 'slots' is not a setting such as slots=N"),
                "\(out.stdout)")
        #expect(attempts(out.stdout) == 0, "\(out.stdout)")
    }

    @Test("SIGTERM or SIGINT to ./launch -np 2 (no hostfile) after the first checkpoint: it passes the signal on, waits, and does not restart; within seconds neither mpirun nor a rank of that job is left",
          arguments: [SIGTERM, SIGINT])
    func signalReachesTheJob(signal: Int32) throws {
        // Long enough (a minute or more at np=2) to be still training when the deadline comes.
        let run = try RunFolder(scratch, "signalled-\(signal)", flags: ["--model", "mlp", "--hidden", "256", "--epochs", "40",
                                                                        "--checkpoint-every", "50"])
        let job = try TestSupport.startLaunch(["-np", "2"] + run.command, log: run.log("launch"))
        defer { endEverything(mentioning: run.checkpoints, job) }
        try #require(TestSupport.waitForCheckpoint(run, step: 50, while: job, seconds: 120) != nil,
                     "no checkpoint before the job ended:\n\(job.output)")
        kill(job.pid, signal)
        let deadline = Date().addingTimeInterval(20)
        var left = ProcessTable.processes(mentioning: run.checkpoints)
        while (job.isRunning || !left.isEmpty) && Date() < deadline {
            usleep(100_000)
            left = ProcessTable.processes(mentioning: run.checkpoints)
        }
        let output = job.output
        #expect(!job.isRunning, "./launch still runs 20 s after the signal:\n\(output)")
        #expect(left.isEmpty, "left running 20 s after the signal: \(left.map { "\($0.name) (pid \($0.pid))" }):\n\(output)")
        #expect(attempts(output) == 1, "\(output)")
        #expect(output.contains("to ./launch; not restarting"), "\(output)")
    }

    @Test("A second ./launch on a checkpoint directory that another live run holds: exit 64 at once, no restart, saying the directory is in use; the trainer alone exits 64 as well")
    func lockedDirectoryIsNotRestarted() throws {
        let run = try RunFolder(scratch, "locked", flags: ["--model", "mlp", "--hidden", "8", "--max-steps", "20"])
        try FileManager.default.createDirectory(atPath: run.checkpoints, withIntermediateDirectories: true)
        // The other run: this process holds the directory's lock, as a live trainer would.
        let lock = try DirectoryLock(directory: run.checkpoints)
        defer { withExtendedLifetime(lock) {} }
        let job = try TestSupport.startLaunch(["-np", "2", "--max-restarts", "3"] + run.command, log: run.log("launch"))
        let out = try TestSupport.finish(job, seconds: 60, what: "./launch on a locked checkpoint directory")
        #expect(out.status == TrainingError.permanentExitStatus, "exit \(out.status):\n\(out.stdout)")
        #expect(attempts(out.stdout) == 1, "\(out.stdout)")
        #expect(out.stdout.contains("another trainer (pid \(getpid()) on this host) is writing checkpoints here"), "\(out.stdout)")
        #expect(out.stdout.contains("[launch] job failed (exit 64): an error that running it again would meet again"),
                "\(out.stdout)")
        #expect(!out.stdout.contains("nothing to do"), "\(out.stdout)")

        let trainer = try #require(TestSupport.trainerExecutable)
        let alone = try TestSupport.run(trainer, run.command + ["--threads", "1"])
        #expect(alone.status == TrainingError.permanentExitStatus, "exit \(alone.status):\n\(alone.stderr)")
        #expect(alone.stderr.contains("is writing checkpoints here"), "\(alone.stderr)")
    }

    @Test("./launch run from another directory with a relative --checkpoint-dir: the checkpoints are under the caller's directory, not the project's")
    func relativePathsAreTheCallers() throws {
        let caller = scratch.appendingPathComponent("caller")
        try FileManager.default.createDirectory(at: caller, withIntermediateDirectories: true)
        let name = "launch-relative-\(UUID().uuidString)"
        let inProject = TestSupport.packageRoot.appendingPathComponent(name)
        defer { try? FileManager.default.removeItem(at: inProject) }
        let job = try TestSupport.startLaunch(["-np", "1", "train", "--model", "mlp", "--hidden", "8", "--max-steps", "3",
                                               "--checkpoint-dir", name],
                                              log: scratch.appendingPathComponent("relative.log"), from: caller)
        let out = try TestSupport.finish(job, seconds: 60, what: "./launch with a relative --checkpoint-dir")
        #expect(out.status == 0, "exit \(out.status):\n\(out.stdout)")
        let directory = CheckpointDirectory(caller.appendingPathComponent(name).path)
        #expect(try directory.checkpoints().map(\.globalStep) == [3], "\(out.stdout)")
        #expect(!FileManager.default.fileExists(atPath: inProject.path), "checkpoints written in the project's folder")
    }

    @Test("A checkpoint directory whose `latest` is a FIFO and a job that fails: ./launch ends within seconds instead of blocking on the pointer")
    func fifoPointerDoesNotBlock() throws {
        let run = try RunFolder(scratch, "fifo", flags: ["--model", "mlp", "--hidden", "8", "--max-steps", "3",
                                                         "--resume", scratch.appendingPathComponent("missing.h5").path])
        try FileManager.default.createDirectory(atPath: run.checkpoints, withIntermediateDirectories: true)
        try #require(mkfifo(run.checkpoints + "/latest", 0o644) == 0, "mkfifo: \(String(cString: strerror(errno)))")
        let job = try TestSupport.startLaunch(["-np", "1", "--max-restarts", "0"] + run.command, log: run.log("launch"))
        let out = try TestSupport.finish(job, seconds: 60, what: "./launch after a failed job, `latest` a FIFO")
        #expect(out.status != 0, "\(out.stdout)")
        #expect(out.stdout.contains("missing.h5"), "\(out.stdout)")
    }

    /// Ends `job` and every process whose command line names `text` (its
    /// unique checkpoint directory), which a ./launch that died of a signal
    /// may have left behind.
    func endEverything(mentioning text: String, _ job: BackgroundProcess) {
        job.stop()
        for entry in ProcessTable.processes(mentioning: text) where ProcessTable.isAlive(entry.pid, startedAt: entry.startTime) {
            kill(entry.pid, SIGKILL)
        }
    }
}
