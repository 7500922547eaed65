import Checkpoint
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Jobs across hosts with their own network stacks: network namespaces made
/// by scripts/testhosts, each with its own interface and address on a
/// bridge, reached by mpirun through scripts/netns-rsh instead of ssh, and
/// started with the same `./launch -np N --hostfile H` a user runs on two
/// machines. Every test makes its own hosts on a free subnet and removes them.
@Suite("Multi-host: network-namespace hosts under ./launch --hostfile", .serialized,
       .enabled(if: TestHosts.unavailableReason == nil, Comment(rawValue: TestHosts.unavailableReason ?? "")))
final class MultiHostTests {
    let scratch: URL
    let hosts: TestHosts

    init() throws {
        scratch = try TestSupport.temporaryDirectory()
        hosts = try TestHosts(count: 2)
    }

    deinit {
        hosts.remove()
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Deterministic mode with two micro-batches: np=2 and np=1 (after
    /// losing a host) are the same arithmetic. 1,200 steps of a small MLP
    /// across the first epoch's end, a checkpoint every 100.
    static let flags = ["--model", "mlp", "--hidden", "32", "--epochs", "2", "--max-steps", "1200",
                        "--checkpoint-every", "100", "--deterministic", "--micro-batches", "2"]

    /// `./launch arguments` with the trainer these tests built, mpirun
    /// pointed at the test hosts.
    func startLaunch(_ arguments: [String], log: URL) throws -> BackgroundProcess {
        try TestSupport.startLaunch(arguments, log: log, variables: hosts.mpiEnvironment)
    }

    /// The same job alone, uninterrupted.
    func reference() throws -> [Float] {
        let run = try RunFolder(scratch, "alone", flags: Self.flags)
        let out = try TestSupport.runTrainer(np: 1, run.command, log: run.log("alone"))
        try #require(out.status == 0, "\(out.stdout)")
        return try #require(try run.finalParameters())
    }

    @Test("np=2 across two hosts trains bitwise the parameters of np=2 on one host and of np=1 (--deterministic)")
    func acrossHosts() throws {
        let run = try RunFolder(scratch, "two-hosts", flags: Self.flags)
        let job = try startLaunch(["-np", "2", "--hostfile", hosts.hostfile.path] + run.command, log: run.log("launch"))
        let out = try TestSupport.finish(job, seconds: 120, what: "./launch across two hosts")
        try #require(out.status == 0, "\(out.stdout)")
        #expect(out.stdout.contains("over 2 ranks"), "\(out.stdout)")
        let local = try RunFolder(scratch, "one-host", flags: Self.flags)
        let localOut = try TestSupport.runTrainer(np: 2, local.command, log: local.log("local"))
        try #require(localOut.status == 0, "\(localOut.stdout)")
        let across = try #require(try run.finalParameters())
        // By construction: --deterministic's micro-batches have one shape wherever they run.
        #expect(across == (try local.finalParameters()), "two hosts against one host")
        #expect(across == (try reference()), "two hosts against one process")
    }

    @Test("np=4 as two ranks on each of two hosts: the shared-memory hierarchy (a machine's ranks read each other's gradients in place, only machine sums and updated runs cross hosts) gives bitwise the parameters, optimizer state and metrics of the message path, every replica equal")
    func sharedMemoryHierarchyAcrossHosts() throws {
        let hostfile = scratch.appendingPathComponent("two-slots")
        try hosts.addresses.map { "\($0) slots=2\n" }.joined().write(to: hostfile, atomically: true, encoding: .utf8)
        let flags = ["--model", "mlp", "--hidden", "32", "--optimizer", "adam", "--max-steps", "60", "--checkpoint-every", "30",
                     "--check-replicas"]
        func train(_ name: String, _ extra: [String]) throws -> RunFolder {
            let run = try RunFolder(scratch, name, flags: flags + extra)
            let job = try startLaunch(["-np", "4", "--hostfile", hostfile.path] + run.command, log: run.log("launch"))
            let out = try TestSupport.finish(job, seconds: 120, what: "./launch -np 4 across two hosts (\(name))")
            try #require(out.status == 0, "\(out.stdout)")
            #expect(out.stdout.contains("over 4 ranks"), "\(out.stdout)")
            #expect(out.stdout.contains(extra.isEmpty ? "gradients: shared memory within 2 machines of 2 ranks, messages between them"
                                                      : "gradients: reduce-scatter by messages"), "\(out.stdout)")
            return run
        }
        let shared = try train("hierarchy", [])
        let messages = try train("messages", ["--no-shared-memory"])
        // By construction: ranks 0,1 on host 1 and 2,3 on host 2 (mpirun fills
        // a host's slots first), so the machine sums g0+g1 and g2+g3, then
        // their sum, are the leaves of the four-rank TreeSum the message path adds.
        #expect(try shared.finalParameters() == (try messages.finalParameters()), "hierarchy against messages")
        let a = try CheckpointFile.read(try #require(try CheckpointDirectory(shared.checkpoints).checkpoints().last).path)
        let b = try CheckpointFile.read(try #require(try CheckpointDirectory(messages.checkpoints).checkpoints().last).path)
        #expect(a.optimizer.buffers == b.optimizer.buffers, "optimizer state")
        #expect(try TestSupport.comparableRecords(shared.metrics) == (try TestSupport.comparableRecords(messages.metrics)))
    }

    @Test("--deterministic at np=4 as two ranks on each of two hosts: through the shared-memory hierarchy (each host an aligned subtree) and, with ranks placed round-robin (not a subtree), through messages; both bitwise the parameters of one process")
    func deterministicHierarchyAcrossHosts() throws {
        let hostfile = scratch.appendingPathComponent("two-slots")
        try hosts.addresses.map { "\($0) slots=2\n" }.joined().write(to: hostfile, atomically: true, encoding: .utf8)
        let flags = ["--model", "mlp", "--hidden", "32", "--max-steps", "40", "--checkpoint-every", "20", "--deterministic",
                     "--micro-batches", "4"]
        let alone = try RunFolder(scratch, "deterministic-alone", flags: flags)
        let aloneOut = try TestSupport.runTrainer(np: 1, alone.command, log: alone.log("alone"))
        try #require(aloneOut.status == 0, "\(aloneOut.stdout)")
        let reference = try #require(try alone.finalParameters())
        for (name, mapping, path) in [("by-slot", "slot", "shared memory within 2 machines of 2 ranks"), ("by-node", "node", "by messages")] {
            let run = try RunFolder(scratch, "deterministic-\(name)", flags: flags)
            let job = try TestSupport.startLaunch(["-np", "4", "--hostfile", hostfile.path] + run.command, log: run.log("launch"),
                                                  variables: hosts.mpiEnvironment.merging(["OMPI_MCA_rmaps_base_mapping_policy": mapping]) { $1 })
            let out = try TestSupport.finish(job, seconds: 120, what: "./launch -np 4 --deterministic across two hosts (\(name))")
            try #require(out.status == 0, "\(out.stdout)")
            #expect(out.stdout.contains("gradients: a fixed tree, \(path)"), "\(name): \(out.stdout)")
            // By construction: the same micro-batches and the same tree, whoever adds which level.
            #expect(try run.finalParameters() == reference, "\(name) against one process")
        }
    }

    /// Starts the job on both hosts, waits for a checkpoint at a random step,
    /// does `harm` to host 2, and returns the launcher's output and the
    /// seconds from the harm to the failed job's end and to the resumed run.
    func loseHost(_ name: String, extra: [String] = [], harm: (String) throws -> Void) throws
        -> (out: TestSupport.Output, run: RunFolder, failedAfter: Double, resumedAfter: Double) {
        let run = try RunFolder(scratch, name, flags: Self.flags + extra)
        let job = try startLaunch(["-np", "2", "--hostfile", hosts.hostfile.path, "--min-np", "1", "--max-restarts", "2"]
                                  + run.command, log: run.log("launch"))
        let step = 100 * Int.random(in: 2...6)
        try #require(TestSupport.waitForCheckpoint(run, step: step, while: job) != nil,
                     "no checkpoint \(step) before the job ended:\n\(job.output)")
        let harmed = Date()
        try harm(hosts.addresses[1])
        var failedAt: Date?, resumedAt: Date?
        let deadline = harmed.addingTimeInterval(120)
        while job.isRunning && Date() < deadline {
            let output = job.output
            if failedAt == nil && output.contains("[launch] job failed") { failedAt = Date() }
            if resumedAt == nil && output.contains("resuming from") { resumedAt = Date() }
            usleep(50_000)
        }
        let out = try TestSupport.finish(job, seconds: 120, what: "./launch after losing a host")
        let end = Date()
        return (out, run, (failedAt ?? end).timeIntervalSince(harmed), (resumedAt ?? end).timeIntervalSince(harmed))
    }

    @Test("SIGKILL of every process on host 2 (the host then gone): ./launch --min-np 1 continues on host 1 alone and ends bitwise as an uninterrupted run")
    func hostKilled() throws {
        let (out, run, failedAfter, resumedAfter) = try loseHost("killed") { address in
            try hosts.kill(address)
            try hosts.isolate(address)
        }
        #expect(out.status == 0, "\(out.stdout)")
        #expect(out.stdout.contains("[launch] hosts that answer: \(hosts.addresses[0]); continuing at -np 1 (was 2)"),
                "\(out.stdout)")
        #expect(out.stdout.contains("(saved at world size 2, now 1)"), "\(out.stdout)")
        print("multi-host: host 2 killed; the job failed \(failedAfter) s later and resumed on host 1 after \(resumedAfter) s")
        #expect(failedAfter < 30 && resumedAfter < 40, "failed after \(failedAfter) s, resumed after \(resumedAfter) s")
        #expect(try run.finalParameters() == (try reference()), "after losing a host the parameters differ")
    }

    @Test("Host 2's interface taken down mid-run (a partition, where MPI hangs): the job ends within --step-timeout + 10 s, ./launch continues on host 1, and the run ends bitwise as an uninterrupted one")
    func partition() throws {
        let timeout = 3.0
        let (out, run, failedAfter, resumedAfter) = try loseHost("partition", extra: ["--step-timeout", "3"]) { address in
            try hosts.isolate(address)
        }
        print("multi-host: host 2 partitioned; the job failed \(failedAfter) s later and resumed on host 1 after \(resumedAfter) s")
        #expect(out.status == 0, "\(out.stdout)")
        #expect(out.stdout.contains("(--step-timeout)"), "\(out.stdout)")
        #expect(out.stdout.contains("continuing at -np 1 (was 2)"), "\(out.stdout)")
        #expect(failedAfter <= timeout + 10, "the partitioned job ended \(failedAfter) s after the partition")
        #expect(try run.finalParameters() == (try reference()), "after the partition the parameters differ")
    }
}

/// Hosts made with scripts/testhosts: namespaces sddp-10-78-X-i with
/// addresses 10.78.X.i, X a subnet no other run uses.
final class TestHosts {
    static let script = TestSupport.packageRoot.appendingPathComponent("scripts/testhosts")
    static let agent = TestSupport.packageRoot.appendingPathComponent("scripts/netns-rsh")

    /// Why the tests cannot run here, or nil.
    static let unavailableReason: String? = {
        guard getuid() == 0 else { return "needs root to make network namespaces (ip netns)" }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip")
            || FileManager.default.isExecutableFile(atPath: "/usr/bin/ip") else { return "needs iproute2 (the ip command)" }
        guard TestSupport.canRunRestartTests else { return "needs mpirun (openmpi-bin), Fashion-MNIST and the built trainer" }
        // A namespace that cannot be made (a container without CAP_SYS_ADMIN) skips, it does not fail.
        let probe = "sddp-probe-\(getpid())"
        guard (try? TestHosts.shell(["ip", "netns", "add", probe]))?.status == 0 else {
            return "cannot make network namespaces here (ip netns add failed)"
        }
        _ = try? TestHosts.shell(["ip", "netns", "delete", probe])
        return nil
    }()

    let subnet: String
    let addresses: [String]
    let hostfile: URL

    init(count: Int) throws {
        let out = try Self.shell([Self.script.path, "up", String(count)])
        try #require(out.status == 0, "testhosts up failed: \(out.stdout)\(out.stderr)")
        addresses = out.stdout.split(separator: "\n").map(String.init)
        try #require(addresses.count == count, "testhosts printed \(out.stdout)")
        subnet = addresses[0].split(separator: ".")[2].description
        hostfile = FileManager.default.temporaryDirectory.appendingPathComponent("hosts-\(subnet)-\(UUID().uuidString)")
        try addresses.map { "\($0) slots=1\n" }.joined().write(to: hostfile, atomically: true, encoding: .utf8)
    }

    /// What mpirun needs to reach these hosts: the agent instead of ssh,
    /// TCP only, on this subnet only.
    var mpiEnvironment: [String: String] {
        let network = "10.78.\(subnet).0/24"
        return ["OMPI_MCA_plm_rsh_agent": Self.agent.path, "OMPI_MCA_btl": "self,tcp",
                "OMPI_MCA_btl_tcp_if_include": network, "OMPI_MCA_oob_tcp_if_include": network]
    }

    func kill(_ address: String) throws {
        let out = try Self.shell([Self.script.path, "kill", address])
        try #require(out.status == 0, "\(out.stderr)")
    }

    func isolate(_ address: String) throws {
        let out = try Self.shell([Self.script.path, "isolate", address])
        try #require(out.status == 0, "\(out.stderr)")
    }

    func remove() {
        _ = try? Self.shell([Self.script.path, "down", subnet])
        try? FileManager.default.removeItem(at: hostfile)
    }

    static func shell(_ arguments: [String]) throws -> TestSupport.Output {
        let path = arguments[0].hasPrefix("/") ? arguments[0] : "/usr/bin/env"
        let rest = arguments[0].hasPrefix("/") ? Array(arguments.dropFirst()) : arguments
        return try TestSupport.run(URL(fileURLWithPath: path), rest, environment: TestSupport.childEnvironment)
    }
}
