import Checkpoint
import Foundation
import Testing

/// The sharded optimizer (ZeRO stage 1, `--shard-optimizer`, the default
/// under mpirun) under real mpirun: each rank updates its run of the
/// parameters, so these runs check that nothing of the result depends on it.
extension DataParallelTests {
    @Test("--shard-optimizer at np=2 changes no bit: parameters, every optimizer buffer of the checkpoint and the metrics lines equal --no-shard-optimizer's (Adam, SGD with momentum, centered RMSprop with momentum; one bucket per parameter; gradient clipping)",
          arguments: [["--optimizer", "adam"],
                      ["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--bucket-mb", "0.01"],
                      ["--optimizer", "rmsprop", "--lr", "0.001", "--momentum", "0.5", "--centered"],
                      ["--optimizer", "adamw", "--clip-grad-norm", "0.5"]])
    func shardingChangesNoBit(optimizer: [String]) throws {
        let flags = ["--model", "mlp", "--max-steps", "30", "--checkpoint-every", "0"] + optimizer
        let sharded = try train(np: 2, flags + ["--shard-optimizer"])
        let whole = try train(np: 2, flags + ["--no-shard-optimizer"])
        // By construction: at two ranks both paths add a + b (IEEE addition commutes), and the optimizer
        // kernels are elementwise without FMA contraction, so a run's elements get the whole's operations.
        expectBitwiseEqual(whole, sharded, "np=2 \(optimizer.joined(separator: " "))")
    }

    @Test("A sharded np=2 checkpoint resumes unsharded and an unsharded one sharded, both ending bitwise as the uninterrupted run (the checkpoint holds the full optimizer state)")
    func shardedCheckpointsResumeEitherWay() throws {
        let flags = ["--model", "mlp", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--checkpoint-every", "0"]
        let reference = try train(np: 2, flags + ["--max-steps", "40"])
        for (first, second) in [("--shard-optimizer", "--no-shard-optimizer"), ("--no-shard-optimizer", "--shard-optimizer")] {
            let checkpoints = directory.appendingPathComponent("resume\(first)").path
            let path = directory.appendingPathComponent("resume\(first).bin").path
            let common = ["train", "--checkpoint-dir", checkpoints, "--save-parameters", path] + flags
            let part = try TestSupport.mpirun(np: 2, common + ["--max-steps", "20", first])
            try #require(part.status == 0, "\(first): \(part.stdout)\(part.stderr)")
            let rest = try TestSupport.mpirun(np: 2, common + ["--max-steps", "40", second])
            try #require(rest.status == 0, "\(second): \(rest.stdout)\(rest.stderr)")
            #expect(rest.stdout.contains("resuming from"), "\(rest.stdout)")
            // By construction, as above: a + b at two ranks, elementwise optimizer kernels.
            #expect(try TestSupport.floats(at: path) == reference.parameters, "\(first) then \(second)")
            let newest = try #require(try CheckpointDirectory(checkpoints).checkpoints().last)
            let state = try CheckpointFile.read(newest.path)
            #expect(state.optimizer.buffers == reference.state.optimizer.buffers, "\(first) then \(second): optimizer state")
        }
    }

    @Test("Sharded at np=3 (uneven runs, three contributions added in rank order): the smooth model stays within 1e-4 relative of one process")
    func shardedAtThreeRanks() throws {
        let flags = ["--model", "deep-autoencoder", "--layers", "32", "--optimizer", "adam", "--lr", "0.001",
                     "--batch-size", "48", "--max-steps", "100", "--checkpoint-every", "0"]
        let reference = try train(np: 1, flags).parameters
        let sharded = try train(np: 3, flags + ["--shard-optimizer"])
        let worst = zip(sharded.parameters, reference).map { abs($0 - $1) / max(abs($1), 1e-2) }.max() ?? 0
        #expect(worst <= 1e-4, "np=3: largest relative difference \(worst)")
        #expect(sharded.state.optimizer.buffers["exp_avg"]?.count == reference.count)
    }

    @Test("trainer bench reports each rank's optimizer state: half of np=1's at np=2 when sharded (up to alignment), all of it unsharded")
    func benchReportsOptimizerState() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let bench = ["bench", "--workload", "mlp", "--mode", "default", "--steps", "3"]
        func stateBytes(_ out: TestSupport.Output) throws -> Int {
            try #require(out.status == 0, "\(out.stdout)\(out.stderr)")
            let line = try #require(out.stdout.split(separator: "\n").first { $0.contains("\"workload\":\"mlp\"") })
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(object["optimizer_state_bytes"] as? Int, "\(line)")
        }
        let alone = try stateBytes(try TestSupport.run(trainer, bench + ["--threads", "1"]))
        #expect(alone == 2 * 101_770 * 4, "Adam's two moments of the 101,770 parameters")
        // Half, up to the runs' 64-byte alignment (16 floats of each of the two moments).
        let sharded = try stateBytes(try TestSupport.mpirun(np: 2, bench))
        #expect(sharded * 2 >= alone && sharded * 2 - alone <= 2 * 2 * 16 * 4, "\(sharded) bytes per rank")
        #expect(try stateBytes(try TestSupport.mpirun(np: 2, bench + ["--no-shard-optimizer"])) == alone)
    }
}
