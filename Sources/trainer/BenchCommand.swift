import ArgumentParser
import Collective
import DataLoading
import Foundation
import ModelZoo
import RunLog
import Training
import UserModels

/// Which training modes `trainer bench` measures.
enum BenchMode: String, ExpressibleByArgument, CaseIterable {
    /// MPI_Allreduce of whole per-rank batches.
    case `default`
    /// `--deterministic`: fixed micro-batches and the fixed-order tree.
    case deterministic
    /// Both, alternating per workload, so their figures come from the same run.
    case both

    /// The `deterministic` settings to run, in order.
    var deterministicSettings: [Bool] {
        switch self {
        case .default: [false]
        case .deterministic: [true]
        case .both: [false, true]
        }
    }
}

/// `trainer bench`: one JSON line per workload (samples/s or GFLOP/s).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training throughput (mlp, ae, cnn, and the user-shaped models) and sgemm GFLOP/s; prints JSON lines.")

    /// Every workload `--workload` takes: the built-in ones and the models of
    /// Examples/UserModels, written against the public API as a user would.
    static let knownWorkloads = Benchmark.workloads + UserWorkload.all.map(\.name)

    @OptionGroup var threading: ThreadsOption

    /// `--threads`, 1 by default: the figures are per rank.
    var threads: Int { threading.threads ?? 1 }

    @OptionGroup var batch: BatchSizeOption

    /// `--batch-size`, the training default (64) when not given.
    var batchSize: Int { batch.resolved(default: TrainingOptions().batchSize) }

    @OptionGroup(title: "Parallelism") var parallel: ParallelOptions

    @Option(help: "Training mode: default, deterministic, or both (each workload in both modes, one after the other).")
    var mode: BenchMode = .both

    @Option(parsing: .unconditional, help: "Seconds to time each workload (after a warm-up).")
    var seconds: Double = 3

    @Option(parsing: .unconditional, help: "Time exactly this many steps instead of --seconds (for profilers).")
    var steps: Int?

    @Option(parsing: .upToNextOption, help: "Workloads to run: \(knownWorkloads.joined(separator: ", ")); `user` for all user-* ones (default: \(Benchmark.workloads.joined(separator: ", "))).")
    var workload: [String] = Benchmark.workloads

    /// `--workload` with `user` expanded.
    var workloads: [String] {
        workload.flatMap { $0 == "user" ? UserWorkload.all.map(\.name) : [$0] }
    }

    @Option(parsing: .unconditional, help: "Measure each workload this many times and print the median and the spread (min-max) after the runs (default 1; 5 with --scaling).")
    var `repeat`: Int?

    @Flag(help: "Compare the layouts of this machine's cores (np=1 with 1 and with N threads; np=N through shared memory, by messages and unsharded; N independent processes at 1/N of the batch, each pinned to its own core, the ceiling) in alternating runs, and print the medians, each step's phases and the bytes each rank moves beside the scaling targets. Run it alone, not under mpirun.")
    var scaling = false

    @OptionGroup var directory: DataDirectoryOption

    /// `--data-dir`: where Fashion-MNIST is.
    var dataDir: String? { directory.dataDir }

    /// The numbers the benchmark shares with training, checked the same way.
    var options: TrainingOptions {
        var o = TrainingOptions()
        o.threads = threads
        o.batchSize = batchSize
        parallel.apply(to: &o)
        o.deterministic = parallel.microBatches != nil
        return o
    }

    /// Inside `Job.run` (see `run`), so that a bad option exits 64.
    func checkOptions() throws {
        try options.validate()
        if !(seconds > 0 && seconds <= 86_400) { throw CommandLineError("--seconds", "must be a positive number up to 86400, got \(seconds)") }
        if let steps, steps < 1 { throw CommandLineError("--steps", "must be at least 1, got \(steps)") }
        if let count = `repeat`, !(1...1000).contains(count) {
            throw CommandLineError("--repeat", "must be between 1 and 1000, got \(count)")
        }
        if scaling && Communicator.isUnderMPIRun {
            throw CommandLineError("--scaling", "starts its own mpirun for each layout; run it alone, not under mpirun")
        }
        for w in workloads where !Self.knownWorkloads.contains(w) {
            throw TrainingError.invalidOption(.workload, "unknown workload '\(w)'; known: \(Self.knownWorkloads.joined(separator: ", ")), user")
        }
    }

    func run() throws {
        try Job.run(nil) { try checkOptions() }
        if scaling {
            var forwarded = ["--prefetch", String(parallel.prefetch), "--bucket-mb", String(parallel.bucketMb)]
            if let dataDir { forwarded += ["--data-dir", dataDir] }
            let cores = ProcessInfo.processInfo.activeProcessorCount
            try ScalingBenchmark(workloads: workloads.filter { $0 != "sgemm" }, rounds: `repeat` ?? 5, seconds: seconds,
                                 batchSize: batchSize, ranks: max(cores, 2), extraArguments: forwarded).run()
            return
        }
        let communicator = try Job.communicator()
        try Job.run(communicator) {
            let data = try DatasetCatalog.load(name: "fashion-mnist", dataDirectory: dataDir)
            var repeated: [String: [Double]] = [:]
            var names: [String] = []
            // The rate the user workloads' GFLOP/s are set against: this
            // process's sgemm, measured first unless `sgemm` is a workload.
            var sgemmRate: Double?
            if workloads.contains(where: { UserWorkload.named($0) != nil }) && !workloads.contains("sgemm") {
                sgemmRate = Benchmark.sgemm(threads: threads, seconds: 1).gflops
            }
            for _ in 0..<(`repeat` ?? 1) {
                for w in workloads {
                    // sgemm is per process; under mpirun only the training workloads are collective.
                    if w == "sgemm" && (communicator?.size ?? 1) > 1 { continue }
                    for deterministic in w == "sgemm" ? [false] : mode.deterministicSettings {
                        var result: Benchmark.Result
                        do {
                            if w == "sgemm" {
                                result = Benchmark.sgemm(threads: threads, seconds: seconds)
                                sgemmRate = result.gflops
                            } else {
                                result = try Benchmark.run(try Self.trainingWorkload(w), batchSize: batchSize,
                                                           threads: threads, seconds: seconds, steps: steps,
                                                           data: data, communicator: communicator,
                                                           bucketMegabytes: parallel.bucketMb, prefetch: parallel.prefetch,
                                                           deterministic: deterministic,
                                                           microBatches: parallel.microBatches,
                                                           shardOptimizer: parallel.shardOptimizer,
                                                           sharedMemory: parallel.sharedMemory)
                            }
                        } catch TrainingError.invalidOption(_, let reason) where deterministic && mode == .both {
                            // Every rank refuses alike before any collective: skip that pass, say why.
                            if (communicator?.rank ?? 0) == 0 {
                                FileHandle.standardError.write(Data("bench: \(w) deterministic skipped: \(reason)\n".utf8))
                            }
                            continue
                        }
                        // Against one sgemm per rank: the figures are global.
                        if w != "sgemm", let gflops = result.gflops, let sgemmRate {
                            result.sgemmFraction = gflops / (sgemmRate * Double(communicator?.size ?? 1))
                        }
                        if (communicator?.rank ?? 0) == 0 { print(result.json) }
                        let name = w + (w == "sgemm" ? "" : deterministic ? " deterministic" : " default")
                        if repeated[name] == nil { names.append(name) }
                        repeated[name, default: []].append(result.samplesPerSecond ?? result.gflops ?? 0)
                    }
                }
            }
            guard (`repeat` ?? 1) > 1, (communicator?.rank ?? 0) == 0 else { return }
            for name in names {
                guard let spread = Spread(repeated[name, default: []]) else { continue }
                var r = JSONRecord()
                r.add("summary", name)
                r.add("runs", repeated[name, default: []].count)
                r.add(name.hasPrefix("sgemm") ? "median_gflops" : "median_samples_per_s", spread.median.rounded())
                r.add("min", spread.low.rounded())
                r.add("max", spread.high.rounded())
                print(r.text)
            }
        }
    }

    /// The training workload `name`: built in, or one of Examples/UserModels
    /// (cross-entropy on Fashion-MNIST, seen as 3x32x32 where the model wants it).
    static func trainingWorkload(_ name: String) throws -> Benchmark.Workload {
        guard let user = UserWorkload.named(name) else { return try Benchmark.workload(named: name) }
        let cifarShaped = user.inputShape == CIFARShaped.shape
        return Benchmark.Workload(name: user.name, loss: .crossEntropy, trainingFLOPsPerSample: user.trainingFLOPsPerSample,
                                  trainingSet: { cifarShaped ? CIFARShaped($0.train) : $0.train as any Dataset }) {
            user.build(&$0, true)
        }
    }
}
