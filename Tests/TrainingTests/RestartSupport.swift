import Checkpoint
import Foundation
import ModelZoo
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Helpers for the end-to-end restart tests: real `trainer` processes (alone,
// under mpirun, or under ./launch) started without waiting, their ranks found
// and signalled, waited for with a deadline, and never left behind.

/// A child process that runs while the test watches it. Its stdout and
/// stderr go to one log file, which can be read at any moment (a pipe could
/// fill up, and the ranks of an mpirun job would keep it open).
///
/// Started with posix_spawn, all signals unblocked and the usual ones at
/// their default action: Foundation's Process passes on the signal mask of
/// the test thread that starts it, where SIGTERM is blocked, and mpirun then
/// never sees a SIGTERM.
final class BackgroundProcess {
    let executable: URL
    let pid: pid_t
    let log: URL
    /// The wait status once it has ended.
    private var waitStatus: Int32?
    /// Trainer processes seen under this one, with their start times, so
    /// `stop()` can end them even after their parent is gone (and never a
    /// process that got the same pid later).
    private var seen: [pid_t: UInt64] = [:]

    /// The executable name of its MPI ranks.
    let rankName: String

    /// Starts `executable arguments` with `environment`, output to `log`;
    /// its ranks are the descendants named `rankName`.
    init(_ executable: URL, _ arguments: [String], log: URL,
         environment: [String: String] = TestSupport.childEnvironment, rankName: String = "trainer") throws {
        self.executable = executable
        self.log = log
        self.rankName = rankName
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable.path, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw SpawnError(executable: executable.path, reason: String(cString: strerror(result)))
        }
        self.pid = pid
    }

    struct SpawnError: Error, CustomStringConvertible {
        let executable: String
        let reason: String
        var description: String { "cannot start \(executable): \(reason)" }
    }

    deinit { stop() }

    /// Whether it has not ended yet (reaps it when it has).
    var isRunning: Bool {
        guard waitStatus == nil else { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            waitStatus = status
        } else if result == -1 && errno == ECHILD {
            waitStatus = 255 << 8  // reaped elsewhere: the status is lost, reported as exit 255
        }
        return waitStatus == nil
    }

    /// Everything it has printed so far (stdout and stderr interleaved).
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Waits up to `seconds` for it to end: its exit status (the signal
    /// number if a signal ended it), or nil if it is still running.
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { usleep(2_000) }
        guard let status = waitStatus else { return nil }
        return endedBySignal ? status & 0x7f : (status >> 8) & 0xff
    }

    /// Whether a signal ended it rather than an exit.
    var endedBySignal: Bool {
        guard let status = waitStatus else { return false }
        return status & 0x7f != 0
    }

    /// The `trainer` processes it runs, by MPI rank: itself (rank 0) when it
    /// is the trainer, otherwise its descendants named `trainer` with their
    /// OMPI_COMM_WORLD_RANK (mpirun's children; under ./launch, the children
    /// of its mpirun).
    func trainerRanks() -> [Int: pid_t] {
        if executable.lastPathComponent == rankName {
            return isRunning ? [0: pid] : [:]
        }
        var ranks: [Int: pid_t] = [:]
        guard isRunning else { return [:] }  // its pid may belong to another process now
        for entry in ProcessTable.descendants(of: pid) where entry.name == rankName {
            guard let rank = ProcessTable.mpiRank(of: entry.pid) else { continue }
            ranks[rank] = entry.pid
            seen[entry.pid] = entry.startTime
        }
        return ranks
    }

    /// Waits up to `seconds` until `count` trainer ranks run; nil if they
    /// never all appeared (the job ended or is stuck starting).
    func waitForRanks(_ count: Int, seconds: Double = 60) -> [Int: pid_t]? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let ranks = trainerRanks()
            if ranks.count == count { return ranks }
            if !isRunning { return nil }
            usleep(2_000)
        }
        return nil
    }

    /// The trainer processes seen under it that still run.
    func leftoverTrainers() -> [pid_t] {
        seen.filter { ProcessTable.isAlive($0.key, startedAt: $0.value) }.map(\.key).sorted()
    }

    /// Ends it and everything it started: every descendant (and every
    /// trainer rank seen earlier) is continued, in case a test stopped it,
    /// and SIGKILLed, then the process itself; waits for it. Only processes
    /// known to be its own are signalled: descendants while it has not been
    /// reaped (its pid cannot be reused before), and seen ranks whose start
    /// time still matches.
    func stop() {
        var victims = seen
        if isRunning {
            for entry in ProcessTable.descendants(of: pid) { victims[entry.pid] = entry.startTime }
        }
        for (victim, startTime) in victims where ProcessTable.isAlive(victim, startedAt: startTime) {
            kill(victim, SIGCONT)
            kill(victim, SIGKILL)
        }
        if isRunning {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
        }
        _ = wait(seconds: 30)
    }
}

/// The machine's processes, read from /proc (Linux).
enum ProcessTable {
    struct Entry {
        let pid: pid_t
        let parent: pid_t
        /// The command name (at most 15 characters), e.g. "trainer".
        let name: String
        /// The state letter: R, S, T (stopped), Z (zombie), ...
        let state: Character
        /// Clock ticks after boot when it started: with the pid, names it for good.
        let startTime: UInt64
    }

    /// Every process, from /proc/<pid>/stat.
    static func entries() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name in
            guard let pid = pid_t(name) else { return nil }
            return entry(pid)
        }
    }

    /// One process's entry, nil once it is gone.
    static func entry(_ pid: pid_t) -> Entry? {
        guard let stat = read("/proc/\(pid)/stat") else { return nil }
        // "pid (name) state ppid ...": the name may hold spaces and parentheses.
        guard let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Fields from the state (3rd in proc(5)) on: parent 4th, start time 22nd.
        guard fields.count > 19, let state = fields[0].first, let parent = pid_t(fields[1]),
              let startTime = UInt64(fields[19]) else { return nil }
        return Entry(pid: pid, parent: parent, name: String(stat[stat.index(after: open)..<close]), state: state,
                     startTime: startTime)
    }

    /// Children, grandchildren, ... of `root`.
    static func descendants(of root: pid_t) -> [Entry] {
        let all = entries()
        var found: [Entry] = []
        var frontier: Set<pid_t> = [root]
        while !frontier.isEmpty {
            let children = all.filter { frontier.contains($0.parent) }
            found += children
            frontier = Set(children.map(\.pid))
        }
        return found
    }

    /// The MPI rank mpirun gave a process (OMPI_COMM_WORLD_RANK in its environment).
    static func mpiRank(of pid: pid_t) -> Int? {
        guard let environment = read("/proc/\(pid)/environ") else { return nil }
        let prefix = "OMPI_COMM_WORLD_RANK="
        return environment.split(separator: "\0").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
    }

    /// The processes whose command line holds `text` (e.g. a run's unique
    /// checkpoint directory), zombies left out.
    static func processes(mentioning text: String) -> [Entry] {
        entries().filter { entry in
            guard entry.state != "Z", let commandLine = read("/proc/\(entry.pid)/cmdline") else { return false }
            return commandLine.replacingOccurrences(of: "\0", with: " ").contains(text)
        }
    }

    /// Whether the process `pid` that started at `startTime` still runs (is not a zombie).
    static func isAlive(_ pid: pid_t, startedAt startTime: UInt64) -> Bool {
        guard let entry = entry(pid), entry.startTime == startTime else { return false }
        return entry.state != "Z"
    }

    /// A /proc file's text (their size reads as 0, so read to the end).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One run's folder: its checkpoints, final parameters, metrics and logs,
/// and the `trainer train` command that writes them there, which a test
/// runs again, unchanged, to resume.
struct RunFolder {
    let url: URL
    /// The training flags, without the paths.
    let flags: [String]

    /// Creates `parent/name` (emptied first).
    init(_ parent: URL, _ name: String, flags: [String]) throws {
        url = parent.appendingPathComponent(name)
        self.flags = flags
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var checkpoints: String { url.appendingPathComponent("checkpoints").path }
    var parameters: String { url.appendingPathComponent("parameters.bin").path }
    var metrics: String { url.appendingPathComponent("metrics.jsonl").path }
    /// A fresh log file for one process.
    func log(_ name: String) -> URL { url.appendingPathComponent(name + ".log") }

    /// The `trainer train` command line.
    var command: [String] {
        ["train"] + flags + ["--checkpoint-dir", checkpoints, "--save-parameters", parameters, "--metrics", metrics]
    }

    /// The final parameters (`--save-parameters`); nil if the run never got there.
    func finalParameters() throws -> [Float]? {
        FileManager.default.fileExists(atPath: parameters) ? try TestSupport.floats(at: parameters) : nil
    }

    /// `train_loss` of the last metrics line (the epoch the run ended in).
    func lastTrainLoss() throws -> Double {
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").last, "no metrics line in \(metrics)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return try #require(object["train_loss"] as? Double)
    }

    /// A finished 20-step run of a small MLP in `parent/name`, with
    /// checkpoints at steps 10 and 20: what the crafted-file tests edit.
    static func finishedMLP(_ parent: URL, _ name: String) throws -> RunFolder {
        let run = try RunFolder(parent, name, flags: ["--model", "mlp", "--hidden", "16", "--checkpoint-every", "10"])
        let first = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "20"], log: run.log("first"))
        try #require(first.status == 0, "\(first.stdout)")
        return run
    }

    /// For each case, a finished run whose step-20 checkpoint `craft`
    /// edits (rewritten with a valid checksum) is resumed: the resume must
    /// be refused with an error saying `does not match this run: ` then
    /// `prefix` and holding `message`, not a trap, and change nothing in
    /// the checkpoint directory.
    static func expectCraftedResumesRefused(_ parent: URL, prefix: String = "",
                                            _ cases: [(String, (inout TrainingState) -> Void, String)]) throws {
        for (name, craft, message) in cases {
            let run = try finishedMLP(parent, name)
            var state = try CheckpointFile.read(run.checkpoint(20))
            craft(&state)
            try CheckpointFile.write(state, to: run.checkpoint(20))
            let before = try DirectorySnapshot(run.checkpoints)
            let out = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "40"], log: run.log("again"))
            #expect(out.status != 0 && out.status != 132, "\(name): exit \(out.status)")
            #expect(out.stdout.contains("\(run.checkpoint(20)) does not match this run: \(prefix)"), "\(name): \(out.stdout)")
            #expect(out.stdout.contains(message), "\(name): \(out.stdout)")
            #expect(try DirectorySnapshot(run.checkpoints) == before, "\(name): the refused resume changed the directory")
        }
    }

    /// The checkpoint directory's `latest` pointer as a step.
    var latestStep: Int? {
        CheckpointDirectory(checkpoints).latest().flatMap(CheckpointDirectory.globalStep(fromFileName:))
    }

    /// The path of the checkpoint of `step`.
    func checkpoint(_ step: Int) -> String {
        CheckpointDirectory(checkpoints).path(of: CheckpointDirectory.fileName(globalStep: step))
    }
}

extension TestSupport {
    /// What the restart tests need: mpirun, Fashion-MNIST and the built trainer.
    static var canRunRestartTests: Bool { mpirun != nil && hasFashionMNIST && trainerExecutable != nil }

    /// This process's environment without OMPI_* and PMIX_* variables: a
    /// child that inherits them believes it was started by mpirun.
    static var childEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
    }

    /// Starts `trainer arguments` without waiting: alone with one BLAS
    /// thread when `np` is 1, otherwise under `mpirun -np np`.
    static func startTrainer(np: Int, _ arguments: [String], log: URL) throws -> BackgroundProcess {
        let trainer = try #require(trainerExecutable, "trainer executable not built next to the tests")
        if np == 1 {
            return try BackgroundProcess(trainer, arguments + ["--threads", "1"], log: log)
        }
        let mpirun = try #require(mpirun, "mpirun is not on PATH")
        return try BackgroundProcess(mpirun, ["--allow-run-as-root", "--oversubscribe", "-np", String(np), trainer.path]
                                     + arguments, log: log)
    }

    /// Starts `./launch arguments` with the trainer these tests built
    /// (TRAINER, and LAUNCH_SKIP_BUILD: no set-up, no build), `variables`
    /// added to its environment, from `directory` (by default this
    /// process's current directory).
    static func startLaunch(_ arguments: [String], log: URL, variables: [String: String] = [:],
                            from directory: URL? = nil) throws -> BackgroundProcess {
        var environment = childEnvironment.merging(variables) { $1 }
        environment["TRAINER"] = try #require(trainerExecutable, "trainer executable not built next to the tests").path
        environment["LAUNCH_SKIP_BUILD"] = "1"
        let launch = packageRoot.appendingPathComponent("launch")
        guard let directory else { return try BackgroundProcess(launch, arguments, log: log, environment: environment) }
        // posix_spawn has no working directory of its own: a shell changes to it and becomes ./launch.
        return try BackgroundProcess(URL(fileURLWithPath: "/bin/sh"),
                                     ["-c", "cd -- \"$0\" && exec \"$@\"", directory.path, launch.path] + arguments,
                                     log: log, environment: environment)
    }

    /// Runs `trainer arguments` (as `startTrainer`) to the end, for at most
    /// `seconds` (then it is killed and the test fails).
    static func runTrainer(np: Int, _ arguments: [String], log: URL, seconds: Double = 120) throws -> Output {
        let job = try startTrainer(np: np, arguments, log: log)
        return try finish(job, seconds: seconds, what: "trainer at np=\(np) \(arguments.joined(separator: " "))")
    }

    /// `job`'s exit status and output once it ends within `seconds`.
    static func finish(_ job: BackgroundProcess, seconds: Double, what: String) throws -> Output {
        guard let status = job.wait(seconds: seconds) else {
            job.stop()
            throw TimedOut(what: what, seconds: seconds, output: job.output)
        }
        return Output(status: status, stdout: job.output, stderr: "")
    }

    struct TimedOut: Error, CustomStringConvertible {
        let what: String
        let seconds: Double
        let output: String
        var description: String { "\(what) still ran after \(Int(seconds)) s; output:\n\(output)" }
    }

    /// Waits until `run`'s `latest` checkpoint has reached `step` while
    /// `job` runs; returns that checkpoint's step, nil if the job ended
    /// first or `seconds` passed.
    static func waitForCheckpoint(_ run: RunFolder, step: Int, while job: BackgroundProcess,
                                  seconds: Double = 60) -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        while job.isRunning && Date() < deadline {
            if let latest = run.latestStep, latest >= step { return latest }
            usleep(1_000)
        }
        return nil
    }

    /// Inverts 16 bytes in the stored values of the first parameter of the
    /// checkpoint at `path`, in place; returns that dataset's path
    /// ("/model/1.weight"). The values are found by their bytes, so only
    /// tensor data changes, never HDF5's own structures.
    @discardableResult
    static func corruptTensorData(of path: String) throws -> String {
        let state = try CheckpointFile.read(path)
        let layout = state.parameters.layout
        let values = Array(state.parameters.values[layout.range(of: 0)])
        let needle = values.withUnsafeBytes { Data($0.prefix(256)) }
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        let found = try #require(file.range(of: needle), "the values of \(layout.names[0]) are not stored contiguously in \(path)")
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let offset = found.lowerBound + 64
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(file[offset..<offset + 16].map { ~$0 }))
        return "/model/" + layout.names[0]
    }
}

/// The files of a directory with their bytes and modification times, to
/// check that a run changed nothing there.
struct DirectorySnapshot: Equatable {
    struct File: Equatable {
        let name: String
        let bytes: Data
        let modified: Date?
    }

    let files: [File]

    init(_ path: String) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        files = try names.map { name in
            let file = (path as NSString).appendingPathComponent(name)
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            return File(name: name, bytes: try Data(contentsOf: URL(fileURLWithPath: file)),
                        modified: attributes[.modificationDate] as? Date)
        }
    }

    var names: [String] { files.map(\.name) }
}

/// `a` within `relative` of `b`, relative to the larger magnitude.
func isClose(_ a: Double, _ b: Double, relative: Double) -> Bool {
    abs(a - b) <= relative * max(abs(a), abs(b))
}
