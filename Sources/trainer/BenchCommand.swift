import ArgumentParser
import DataLoading
import Training

/// `trainer bench`: one JSON line per workload (samples/s or GFLOP/s).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training throughput (mlp, ae, cnn) and sgemm GFLOP/s; prints JSON lines.")

    @Option(help: "BLAS threads.")
    var threads = 1

    @Option(help: "Global batch size.")
    var batchSize = 64

    @Option(help: "Seconds to time each workload (after a warm-up).")
    var seconds: Double = 3

    @Option(help: "Time exactly this many steps instead of --seconds (for profilers).")
    var steps: Int?

    @Option(parsing: .upToNextOption, help: "Workloads to run: \(Benchmark.workloads.joined(separator: ", ")).")
    var workload: [String] = Benchmark.workloads

    @Option(help: "Directory with Fashion-MNIST (default: /usr/share/datasets/fashion-mnist).")
    var dataDir: String?

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if seconds <= 0 { throw ValidationError("--seconds must be positive, got \(seconds)") }
        for w in workload where !Benchmark.workloads.contains(w) {
            throw ValidationError("--workload: unknown workload '\(w)'; known: \(Benchmark.workloads.joined(separator: ", "))")
        }
    }

    func run() throws {
        let data = try DatasetCatalog.load(name: "fashion-mnist", dataDirectory: dataDir)
        for w in workload {
            let result = try Benchmark.run(w, batchSize: batchSize, threads: threads, seconds: seconds, steps: steps, data: data)
            print(result.json)
        }
    }
}
