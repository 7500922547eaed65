import Foundation
import Training

/// `trainer bench --scaling`: the layouts of one machine's cores measured
/// against each other, in alternating child processes, and printed beside
/// the targets of data-parallel scaling.
///
/// Each round runs every layout once (one process with one BLAS thread, one
/// with `cores` threads, `cores` ranks of one thread under mpirun with the
/// sharded optimizer, and without it), rotating their order from round to
/// round, so that a noisy neighbour slows every layout alike rather than
/// one. The figures are medians over the rounds, with the spread (min-max).
struct ScalingBenchmark {
    /// One way of using the machine.
    struct Layout: Hashable {
        var ranks: Int
        var threads: Int
        var shardOptimizer: Bool

        var label: String {
            ranks == 1 ? "np=1, \(threads) thread\(threads == 1 ? "" : "s")"
                : "np=\(ranks)" + (shardOptimizer ? "" : " unsharded")
        }
    }

    /// np=W over np=1 (one thread) that the scaling issue asks for, by workload.
    static let targets = ["mlp": 1.5, "ae": 1.6, "cnn": 1.9]

    var workloads: [String]
    var rounds: Int
    var seconds: Double
    var batchSize: Int
    var ranks: Int
    var extraArguments: [String]

    var layouts: [Layout] {
        [Layout(ranks: 1, threads: 1, shardOptimizer: false), Layout(ranks: 1, threads: ranks, shardOptimizer: false),
         Layout(ranks: ranks, threads: 1, shardOptimizer: true), Layout(ranks: ranks, threads: 1, shardOptimizer: false)]
    }

    /// One child's figures: workload -> its JSON object.
    typealias Figures = [String: [String: Any]]

    func run() throws {
        var samples: [Layout: [String: [[String: Any]]]] = [:]
        for round in 0..<rounds {
            let order = layouts.indices.map { layouts[($0 + round) % layouts.count] }
            for layout in order {
                let figures = try measure(layout)
                for (workload, record) in figures { samples[layout, default: [:]][workload, default: []].append(record) }
                FileHandle.standardError.write(Data("bench --scaling: round \(round + 1)/\(rounds) \(layout.label): \(figures.keys.sorted().map { "\($0) \(Int(figures[$0]?["samples_per_s"] as? Double ?? 0))" }.joined(separator: ", ")) samples/s\n".utf8))
            }
        }
        report(samples)
    }

    /// Runs `trainer bench` once in `layout` (under mpirun for several ranks).
    private func measure(_ layout: Layout) throws -> Figures {
        let trainer = "/proc/self/exe"
        var bench = ["bench", "--mode", "default", "--seconds", String(seconds), "--batch-size", String(batchSize),
                     "--threads", String(layout.threads), "--workload"] + workloads + extraArguments
        if !layout.shardOptimizer { bench.append("--no-shard-optimizer") }
        let child = Process()
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        environment["OPENBLAS_NUM_THREADS"] = String(layout.threads)
        child.environment = environment
        if layout.ranks == 1 {
            child.executableURL = URL(fileURLWithPath: trainer)
            child.arguments = bench
        } else {
            let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: trainer)) ?? CommandLine.arguments[0]
            child.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            child.arguments = ["mpirun", "-np", String(layout.ranks), "-x", "OPENBLAS_NUM_THREADS"]
                + (getuid() == 0 ? ["--allow-run-as-root"] : [])
                + (layout.ranks > ProcessInfo.processInfo.activeProcessorCount ? ["--oversubscribe"] : [])
                + [executable] + bench
        }
        let output = Pipe()
        child.standardOutput = output
        try child.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        guard child.terminationStatus == 0 else {
            throw CommandLineError("--scaling", "the \(layout.label) run failed (exit \(child.terminationStatus)); its error is above")
        }
        var figures: Figures = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let workload = object["workload"] as? String else { continue }
            figures[workload] = object
        }
        return figures
    }

    /// Median and spread of `key` over the rounds.
    private func summary(_ records: [[String: Any]], _ key: String) -> Spread? {
        Spread(records.compactMap { ($0[key] as? Double) ?? ($0[key] as? Int).map(Double.init) })
    }

    private func report(_ samples: [Layout: [String: [[String: Any]]]]) {
        let (one, threaded, sharded, unsharded) = (layouts[0], layouts[1], layouts[2], layouts[3])
        print("Scaling on \(ProcessInfo.processInfo.activeProcessorCount) cores, global batch \(batchSize), "
              + "\(rounds) alternated rounds of \(seconds) s per workload; samples/s as median (min-max)")
        for workload in workloads {
            func throughput(_ layout: Layout) -> Spread? {
                summary(samples[layout]?[workload] ?? [], "samples_per_s")
            }
            guard let base = throughput(one) else { continue }
            print("\n\(workload):")
            for layout in layouts {
                guard let t = throughput(layout) else { continue }
                print("  " + layout.label.padding(toLength: 22, withPad: " ", startingAt: 0)
                      + "\(Int(t.median)) (\(Int(t.low))-\(Int(t.high)))  \(format(t.median / base.median))x np=1")
            }
            var record = JSONRecord()
            record.add("workload", workload)
            record.add("rounds", rounds)
            for (layout, key) in [(one, "np1_t1"), (threaded, "np1_t\(ranks)"), (sharded, "np\(ranks)"), (unsharded, "np\(ranks)_unsharded")] {
                if let t = throughput(layout) { record.add("\(key)_samples_per_s", t.median.rounded()) }
            }
            if let s = throughput(sharded) {
                let speedup = s.median / base.median
                record.add("speedup", (speedup * 100).rounded() / 100)
                if let target = Self.targets[workload] {
                    record.add("target", target)
                    print("  target np=\(ranks) >= \(target)x np=1: \(format(speedup))x, "
                          + (speedup >= target ? "met" : "not met"))
                }
                if let t = throughput(threaded) {
                    let ratio = s.median / t.median
                    record.add("vs_threads", (ratio * 100).rounded() / 100)
                    print("  np=\(ranks) against np=1 with \(ranks) threads: \(format(ratio))x, "
                          + (ratio >= 1 ? "one rank per core is the faster layout" : "threads are faster here"))
                }
                let parts = ["step_ms", "compute_ms", "optimizer_ms", "exposed_comm_ms", "waiting_ms"]
                    .compactMap { key in summary(samples[sharded]?[workload] ?? [], key).map { "\(key.dropLast(3)) \(format($0.median, 3))" } }
                print("  np=\(ranks) per step (ms, medians): " + parts.joined(separator: ", "))
            }
            if let full = summary(samples[one]?[workload] ?? [], "optimizer_state_bytes"),
               let part = summary(samples[sharded]?[workload] ?? [], "optimizer_state_bytes") {
                record.add("optimizer_state_bytes_np1", Int(full.median))
                record.add("optimizer_state_bytes_per_rank", Int(part.median))
                print("  optimizer state per rank: \(Int(part.median)) bytes at np=\(ranks), \(Int(full.median)) at np=1 "
                      + "(\(format(part.median / full.median)) of it)")
            }
            print(record.text)
        }
    }

    private func format(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
}
