import Foundation
import Testing

/// Real multi-rank runs of `trainer train` under mpirun: the same model as one
/// process, identical replicas, exact evaluation, the TCP transport, and a
/// failing rank that ends the job instead of hanging it.
@Suite("Data-parallel training under mpirun", .serialized,
       .enabled(if: TestSupport.mpirun != nil && TestSupport.hasFashionMNIST,
                "needs mpirun (openmpi-bin) and Fashion-MNIST (dataset-fashion-mnist)"))
struct DataParallelTests {
    let directory: URL

    init() throws { directory = try TestSupport.temporaryDirectory() }

    /// Trains `steps` steps at world size `np` (1: a plain process) and returns the parameters.
    func parameters(np: Int, steps: Int, _ extra: [String], mca: [String] = []) throws -> [Float] {
        let path = directory.appendingPathComponent("p\(np)-\(UUID().uuidString).bin").path
        let checkpoints = directory.appendingPathComponent("ckpt-\(UUID().uuidString)").path
        var arguments = ["train", "--model", "mlp", "--max-steps", String(steps), "--save-parameters", path,
                         "--checkpoint-dir", checkpoints] + extra
        let out: TestSupport.Output
        if np == 1 {
            out = try TestSupport.run(try #require(TestSupport.trainerExecutable), arguments + ["--threads", "1"])
        } else {
            arguments.append("--check-replicas")  // every step: all ranks bitwise identical
            out = try TestSupport.mpirun(np: np, arguments, mca: mca)
        }
        #expect(out.status == 0, "np=\(np) exited \(out.status): \(out.stderr)")
        return try TestSupport.floats(at: path)
    }

    /// Relative to each weight's size; weights smaller than 0.01 (the median
    /// is about 0.019) are compared at 0.01, where one rounding step of a
    /// different summation order (measured: at most 1.5e-7) is not 1e-5 of it.
    @Test("SGD with momentum: np=2 and np=4 give np=1's parameters within 1e-5 relative, replicas identical every step")
    func sgdEquivalence() throws {
        let options = ["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9"]
        let reference = try parameters(np: 1, steps: 40, options)
        for np in [2, 4] {
            let p = try parameters(np: np, steps: 40, options)
            #expect(p.count == reference.count)
            let worst = zip(p, reference).map { abs($0 - $1) / max(abs($1), 1e-2) }.max() ?? 0
            #expect(worst <= 1e-5, "np=\(np): largest relative difference \(worst)")
        }
    }

    /// Adam divides by sqrt(v): for a weight whose gradient is at rounding
    /// level, a different summation order can flip the sign of its tiny
    /// update, so elementwise closeness is not meaningful; the whole
    /// parameter vector is compared instead.
    @Test("Adam: np=2 and np=4 give np=1's parameters within 1e-5 relative (norm)")
    func adamEquivalence() throws {
        let reference = try parameters(np: 1, steps: 40, [])
        let norm = reference.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        for np in [2, 4] {
            let p = try parameters(np: np, steps: 40, [])
            let difference = zip(p, reference).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            #expect(difference / norm <= 1e-5, "np=\(np): relative difference \(difference / norm)")
        }
    }

    @Test("Over the TCP transport (--mca btl self,tcp, the one that crosses machines) training gives the same parameters")
    func tcpTransport() throws {
        let options = ["--optimizer", "sgd", "--lr", "0.05"]
        let shared = try parameters(np: 2, steps: 30, options)
        let tcp = try parameters(np: 2, steps: 30, options, mca: ["--mca", "btl", "self,tcp"])
        #expect(shared == tcp)
    }

    @Test("One epoch of the MLP: the same test accuracy (3 decimals) at np=1, 2 and 4; world_size in the metrics")
    func oneEpochAccuracy() throws {
        var accuracies: [Int: Double] = [:]
        for np in [1, 2, 4] {
            let metrics = directory.appendingPathComponent("m\(np).jsonl").path
            let arguments = ["train", "--model", "mlp", "--epochs", "1", "--metrics", metrics,
                             "--checkpoint-dir", directory.appendingPathComponent("c\(np)").path]
            let out = np == 1
                ? try TestSupport.run(try #require(TestSupport.trainerExecutable), arguments + ["--threads", "1"])
                : try TestSupport.mpirun(np: np, arguments)
            #expect(out.status == 0, "np=\(np): \(out.stderr)")
            let line = try #require(try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n").last)
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(record["world_size"] as? Int == np)
            accuracies[np] = try #require(record["test_accuracy"] as? Double)
        }
        let rounded = accuracies.mapValues { ($0 * 1000).rounded() / 1000 }
        #expect(Set(rounded.values).count == 1, "accuracies \(accuracies)")
        #expect(accuracies[1]! >= 0.83)
    }

    @Test("A rank that fails ends the whole job with a non-zero exit and that rank's message, not a hang")
    func failingRankEndsTheJob() throws {
        let start = Date()
        // Rank 0 cannot create its metrics file; rank 1 is already waiting in the broadcast.
        let out = try TestSupport.mpirun(np: 2, ["train", "--max-steps", "5", "--metrics", "/proc/no-such-dir/m.jsonl",
                                                 "--checkpoint-dir", directory.appendingPathComponent("c").path])
        #expect(out.status != 0)
        let text = out.stdout + out.stderr
        #expect(text.contains("rank 0 of 2"), "output: \(text)")
        #expect(text.contains("/proc/no-such-dir/m.jsonl"))
        #expect(Date().timeIntervalSince(start) < 60)
    }

    @Test("A global batch that the world size does not divide is refused, naming both numbers")
    func indivisibleBatch() throws {
        let out = try TestSupport.mpirun(np: 4, ["train", "--max-steps", "5", "--batch-size", "62",
                                                 "--checkpoint-dir", directory.appendingPathComponent("c").path])
        #expect(out.status != 0)
        let text = out.stdout + out.stderr
        #expect(text.contains("--batch-size") && text.contains("62") && text.contains("4"), "output: \(text)")
    }
}
