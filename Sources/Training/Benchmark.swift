import DataLoading
import Foundation
import NN
import Optim
import TensorCore

/// Throughput measurements for `trainer bench`: full training steps (forward,
/// loss, backward, Adam step) on real Fashion-MNIST batches, and raw sgemm.
///
/// Workloads: `mlp` (784-128-10, cross-entropy), `ae` (784-64-784, BCE), `cnn`
/// (the `CNN` model zoo network, cross-entropy), `sgemm` (512^3 GFLOP/s).
public enum Benchmark {
    /// One benchmark figure, printed as a JSON line.
    public struct Result: Sendable {
        public var workload: String
        public var batch: Int
        public var threads: Int
        public var samplesPerSecond: Double?
        public var gflops: Double?
        public var stepMilliseconds: Double?

        public var json: String {
            var r = JSONRecord()
            r.add("workload", workload)
            r.add("batch", batch)
            r.add("threads", threads)
            if let samplesPerSecond { r.add("samples_per_s", samplesPerSecond.rounded()) }
            if let stepMilliseconds { r.add("step_ms", (stepMilliseconds * 1000).rounded() / 1000) }
            if let gflops { r.add("gflops", (gflops * 10).rounded() / 10) }
            return r.text
        }
    }

    /// The workloads `trainer bench` knows.
    public static let workloads = ["mlp", "ae", "cnn", "sgemm"]

    /// Times `workload` for about `seconds` (or exactly `steps` steps, for
    /// instruction-count profiling) after a warm-up.
    public static func run(_ workload: String, batchSize: Int, threads: Int, seconds: Double, steps maxSteps: Int? = nil,
                           data: DatasetSplits) throws -> Result {
        BLAS.setThreads(threads)
        var generator = RandomGenerator(seed: 0)
        let model: any Module
        let task: Task
        switch workload {
        case "sgemm":
            return sgemm(size: 512, threads: threads, seconds: seconds)
        case "mlp":
            model = Sequential(Flatten(), Linear(784, 128, generator: &generator), ReLU(),
                               Linear(128, 10, generator: &generator))
            task = .classify
        case "ae":
            model = Sequential(Flatten(), Linear(784, 64, generator: &generator), ReLU(),
                               Linear(64, 784, generator: &generator), Sigmoid())
            task = .reconstruct
        case "cnn":
            model = CNN(generator: &generator)
            task = .classify
        default:
            throw TrainingError.invalidOption("--workload", "unknown workload '\(workload)'; known: \(workloads.joined(separator: ", "))")
        }
        let parameters = ParameterSet(model)
        let optimizer = Adam(parameters)
        let sampler = try DistributedBatchSampler(count: data.train.count, globalBatchSize: batchSize,
                                                  seed: 0, shuffle: true, dropLast: true)
        let loader = DataLoader(dataset: data.train, sampler: sampler)
        func step(_ batch: Batch) {
            parameters.zeroGrad()
            let input = Tensor(shape: batch.shape, values: batch.inputs)
            let loss = taskLoss(task, output: model(input), input: input, labels: batch.labels)
            loss.backward()
            optimizer.step()
        }
        var epoch = 0
        var steps = 0
        var samples = 0
        var start = Date()
        var warm = false
        while true {
            for batch in loader.batches(epoch: epoch) {
                step(batch)
                steps += 1
                samples += batch.count
                let elapsed = Date().timeIntervalSince(start)
                if !warm && (steps >= 50 || elapsed > 0.5) {
                    warm = true
                    (steps, samples, start) = (0, 0, Date())
                } else if warm && (maxSteps.map { steps >= $0 } ?? (elapsed >= seconds)) {
                    return Result(workload: workload, batch: batchSize, threads: threads,
                                  samplesPerSecond: Double(samples) / elapsed,
                                  stepMilliseconds: elapsed / Double(steps) * 1000)
                }
            }
            epoch += 1
        }
    }

    /// GFLOP/s of a size^3 single-precision matrix product.
    static func sgemm(size: Int, threads: Int, seconds: Double) -> Result {
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.uniform([size, size], low: -1, high: 1, generator: &generator)
        let b = Tensor.uniform([size, size], low: -1, high: 1, generator: &generator)
        _ = Tensor.matmul(a, b)
        var count = 0
        let start = Date()
        var elapsed = 0.0
        while elapsed < seconds {
            _ = Tensor.matmul(a, b)
            count += 1
            elapsed = Date().timeIntervalSince(start)
        }
        let flops = 2.0 * Double(size * size * size) * Double(count)
        return Result(workload: "sgemm", batch: size, threads: threads, gflops: flops / elapsed / 1e9)
    }
}
