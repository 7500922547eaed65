import Foundation
import RunLog
import Training

/// `trainer bench --scaling`: the layouts of one machine's cores measured
/// against each other, in alternating child processes, and printed beside
/// the targets of data-parallel scaling.
///
/// Each round runs every layout once, rotating their order from round to
/// round, so that a noisy neighbour slows every layout alike rather than
/// one. The figures are medians over the rounds, with the spread (min-max).
///
/// The ceiling is what `ranks` processes that never communicate do: each
/// trains at 1/`ranks` of the global batch, pinned to its own core
/// (`taskset`; unpinned they interfere and the ceiling reads low), all at
/// once, their samples/s added. np=`ranks` can at best match it.
struct ScalingBenchmark {
    /// One way of using the machine.
    enum Layout: Hashable {
        /// One process with this many BLAS threads.
        case single(threads: Int)
        /// `ranks` ranks under mpirun, one thread each, exchanging as `Exchange` says.
        case mpirun(Exchange)
        /// `ranks` independent processes at 1/`ranks` of the batch, each on its own core.
        case independent

        enum Exchange: Hashable {
            /// The default: sharded optimizer, one machine's ranks through shared memory.
            case sharedMemory
            /// Sharded optimizer, MPI messages (`--no-shared-memory`).
            case messages
            /// Every rank updates everything after an allreduce (`--no-shard-optimizer`).
            case unsharded
        }

        func label(ranks: Int) -> String {
            switch self {
            case let .single(threads): "np=1, \(threads) thread\(threads == 1 ? "" : "s")"
            case .mpirun(.sharedMemory): "np=\(ranks) shared memory"
            case .mpirun(.messages): "np=\(ranks) messages"
            case .mpirun(.unsharded): "np=\(ranks) unsharded"
            case .independent: "\(ranks) independent (ceiling)"
            }
        }

        /// Its key in the JSON record.
        func key(ranks: Int) -> String {
            switch self {
            case let .single(threads): "np1_t\(threads)"
            case .mpirun(.sharedMemory): "np\(ranks)"
            case .mpirun(.messages): "np\(ranks)_messages"
            case .mpirun(.unsharded): "np\(ranks)_unsharded"
            case .independent: "ceiling"
            }
        }
    }

    /// np=W over np=1 (one thread) that the scaling issue asks for, by workload.
    static let targets = ["mlp": 1.5, "ae": 1.6, "cnn": 1.9]
    /// The share of the independent processes' throughput that np=W should reach.
    static let ceilingTarget = 0.95

    var workloads: [String]
    var rounds: Int
    var seconds: Double
    var batchSize: Int
    var ranks: Int
    var extraArguments: [String]

    var layouts: [Layout] {
        [.single(threads: 1), .single(threads: ranks), .mpirun(.sharedMemory), .mpirun(.messages), .mpirun(.unsharded),
         .independent]
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
                FileHandle.standardError.write(Data("bench --scaling: round \(round + 1)/\(rounds) \(layout.label(ranks: ranks)): \(figures.keys.sorted().map { "\($0) \(Int(figures[$0]?["samples_per_s"] as? Double ?? 0))" }.joined(separator: ", ")) samples/s\n".utf8))
            }
        }
        report(samples)
    }

    /// Runs `layout` once: `trainer bench` alone, under mpirun, or as
    /// `ranks` pinned processes at once (their samples/s added).
    private func measure(_ layout: Layout) throws -> Figures {
        let threads = if case let .single(threads) = layout { threads } else { 1 }
        let batch = layout == .independent ? batchSize / ranks : batchSize
        var bench = ["bench", "--mode", "default", "--seconds", String(seconds), "--batch-size", String(batch),
                     "--threads", String(threads), "--workload"] + workloads + extraArguments
        switch layout {
        case .mpirun(.messages): bench.append("--no-shared-memory")
        case .mpirun(.unsharded): bench.append("--no-shard-optimizer")
        default: break
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let commands: [[String]] = switch layout {
        case .single: [[executable] + bench]
        case .mpirun:
            [["mpirun", "-np", String(ranks), "-x", "OPENBLAS_NUM_THREADS"]
                + (getuid() == 0 ? ["--allow-run-as-root"] : [])
                + (ranks > ProcessInfo.processInfo.activeProcessorCount ? ["--oversubscribe"] : [])
                + [executable] + bench]
        case .independent:
            (0..<ranks).map { core in
                ["taskset", "-c", String(core % ProcessInfo.processInfo.activeProcessorCount), executable] + bench
            }
        }
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        environment["OPENBLAS_NUM_THREADS"] = String(threads)
        var children: [(Process, Pipe)] = []
        for command in commands {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            child.arguments = command
            child.environment = environment
            let output = Pipe()
            child.standardOutput = output
            try child.run()
            children.append((child, output))
        }
        var figures: Figures = [:]
        for (child, output) in children {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            child.waitUntilExit()
            guard child.terminationStatus == 0 else {
                throw CommandLineError("--scaling", "the \(layout.label(ranks: ranks)) run failed (exit \(child.terminationStatus)); its error is above")
            }
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let workload = object["workload"] as? String else { continue }
                if var sum = figures[workload] {
                    // Independent processes: their rates add up.
                    sum["samples_per_s"] = (sum["samples_per_s"] as? Double ?? 0) + (object["samples_per_s"] as? Double ?? 0)
                    figures[workload] = sum
                } else {
                    figures[workload] = object
                }
            }
        }
        return figures
    }

    /// Median and spread of `key` over the rounds.
    private func summary(_ records: [[String: Any]], _ key: String) -> Spread? {
        Spread(records.compactMap { ($0[key] as? Double) ?? ($0[key] as? Int).map(Double.init) })
    }

    private func report(_ samples: [Layout: [String: [[String: Any]]]]) {
        print("Scaling on \(ProcessInfo.processInfo.activeProcessorCount) cores, global batch \(batchSize), "
              + "\(rounds) alternated rounds of \(seconds) s per workload; samples/s as median (min-max)")
        for workload in workloads {
            func records(_ layout: Layout) -> [[String: Any]] { samples[layout]?[workload] ?? [] }
            func throughput(_ layout: Layout) -> Spread? { summary(records(layout), "samples_per_s") }
            guard let base = throughput(.single(threads: 1)) else { continue }
            let ceiling = throughput(.independent)
            print("\n\(workload):")
            var record = JSONRecord()
            record.add("workload", workload)
            record.add("rounds", rounds)
            for layout in layouts {
                guard let t = throughput(layout) else { continue }
                let share = ceiling.map { ", \(format(t.median / $0.median)) of the ceiling" } ?? ""
                print("  " + layout.label(ranks: ranks).padding(toLength: 26, withPad: " ", startingAt: 0)
                      + "\(Int(t.median)) (\(Int(t.low))-\(Int(t.high)))  \(format(t.median / base.median))x np=1"
                      + (layout == .independent || layout == .single(threads: 1) ? "" : share))
                record.add("\(layout.key(ranks: ranks))_samples_per_s", t.median.rounded())
            }
            if let s = throughput(.mpirun(.sharedMemory)) {
                let speedup = s.median / base.median
                record.add("speedup", (speedup * 100).rounded() / 100)
                if let target = Self.targets[workload] {
                    record.add("target", target)
                    print("  target np=\(ranks) >= \(target)x np=1: \(format(speedup))x, " + (speedup >= target ? "met" : "not met"))
                }
                if let ceiling {
                    let share = s.median / ceiling.median
                    record.add("of_ceiling", (share * 100).rounded() / 100)
                    print("  target np=\(ranks) >= \(format(Self.ceilingTarget)) of the ceiling: \(format(share)), "
                          + (share >= Self.ceilingTarget ? "met" : "not met"))
                }
                if let t = throughput(.single(threads: ranks)) {
                    let ratio = s.median / t.median
                    record.add("vs_threads", (ratio * 100).rounded() / 100)
                    print("  np=\(ranks) against np=1 with \(ranks) threads: \(format(ratio))x, "
                          + (ratio >= 1 ? "one rank per core is the faster layout" : "threads are faster here"))
                }
            }
            // Where a step's time goes, by layout (the slowest rank's parts).
            let phases = ["step_ms", "compute_ms", "reduce_ms", "optimizer_ms", "allgather_ms", "waiting_ms"]
            for layout in [Layout.single(threads: 1), .independent, .mpirun(.sharedMemory), .mpirun(.messages)] {
                let parts = phases.compactMap { key in summary(records(layout), key).map { "\(key.dropLast(3)) \(format($0.median, 3))" } }
                guard !parts.isEmpty else { continue }
                print("  per step, \(layout.label(ranks: ranks)) (ms, medians): " + parts.joined(separator: ", "))
            }
            for layout in [Layout.mpirun(.sharedMemory), .mpirun(.messages)] {
                guard let copied = summary(records(layout), "transport_bytes_per_step"),
                      let read = summary(records(layout), "peer_read_bytes_per_step") else { continue }
                print("  per step and rank, \(layout.label(ranks: ranks)): \(Int(copied.median)) bytes through MPI, "
                      + "\(Int(read.median)) read in place from peers")
            }
            if let full = summary(records(.single(threads: 1)), "optimizer_state_bytes"),
               let part = summary(records(.mpirun(.sharedMemory)), "optimizer_state_bytes") {
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
