import Collective
import DataLoading
import DataParallel
import Foundation
import ModelZoo
import NN
import Optim
import RunLog
import TensorCore
import Training

/// Throughput measurements for `trainer bench`: full training steps (forward,
/// loss, backward, gradient allreduce across ranks under mpirun, Adam step)
/// on real Fashion-MNIST batches, and raw sgemm.
public enum Benchmark {
    /// One benchmark figure, printed as a JSON line.
    public struct Result: Sendable {
        public var workload: String
        public var batch: Int
        public var threads: Int
        public var worldSize = 1
        /// Whether the step ran in deterministic mode, and with how many micro-batches.
        public var deterministic = false
        public var microBatches: Int?
        /// Whether the optimizer was sharded (ZeRO stage 1; only under mpirun).
        public var shardedOptimizer = false
        public var samplesPerSecond: Double?
        public var gflops: Double?
        /// `gflops` as a fraction of this machine's sgemm rate, measured in the same run.
        public var sgemmFraction: Double?
        public var stepMilliseconds: Double?
        /// Per step, the slowest rank's forward and backward (and the loader's hand-over).
        public var computeMilliseconds: Double?
        /// Per step, the slowest rank's optimizer update.
        public var optimizerMilliseconds: Double?
        /// Per step, the slowest rank's time blocked in communication: waiting
        /// for the gradient reduction, the parameter allgather, the step's agreement.
        public var communicationMilliseconds: Double?
        /// The slowest rank's parts of it: the gradient reduction's wait, the
        /// parameter allgather, the agreement's wait.
        public var communicationParts: (reduce: Double, allgather: Double, agreement: Double)?
        /// The part of `communicationMilliseconds` that is one rank waiting for
        /// a slower one (the spread of the ranks' compute and update times).
        public var waitingMilliseconds: Double?
        /// Bytes of optimizer state on each rank (the largest rank's).
        public var optimizerStateBytes: Int?
        /// One blocking MPI_Allreduce of the same number of bytes.
        public var rawAllreduceMilliseconds: Double?
        public var gradientBytes: Int?
        /// Per step on rank 0: bytes through MPI (handed to it or written by
        /// it), and bytes of peers' gradients read in place in shared memory.
        public var transportBytesPerStep: Int?
        public var peerReadBytesPerStep: Int?

        public var json: String {
            var r = JSONRecord()
            r.add("workload", workload)
            r.add("batch", batch)
            r.add("threads", threads)
            r.add("np", worldSize)
            if workload != "sgemm" { r.add("deterministic", deterministic) }
            if let microBatches { r.add("micro_batches", microBatches) }
            if workload != "sgemm" && worldSize > 1 { r.add("shard_optimizer", shardedOptimizer) }
            if let samplesPerSecond { r.add("samples_per_s", samplesPerSecond.rounded()) }
            if let stepMilliseconds { r.add("step_ms", rounded(stepMilliseconds)) }
            if let computeMilliseconds { r.add("compute_ms", rounded(computeMilliseconds)) }
            if let optimizerMilliseconds { r.add("optimizer_ms", rounded(optimizerMilliseconds)) }
            if let communicationMilliseconds, let waitingMilliseconds {
                r.add("exposed_comm_ms", rounded(max(communicationMilliseconds - waitingMilliseconds, 0)))
                r.add("waiting_ms", rounded(waitingMilliseconds))
            }
            if let parts = communicationParts {
                r.add("reduce_ms", rounded(parts.reduce))
                r.add("allgather_ms", rounded(parts.allgather))
                r.add("agreement_ms", rounded(parts.agreement))
            }
            if let optimizerStateBytes { r.add("optimizer_state_bytes", optimizerStateBytes) }
            if let rawAllreduceMilliseconds { r.add("raw_allreduce_ms", rounded(rawAllreduceMilliseconds)) }
            if let gradientBytes { r.add("gradient_bytes", gradientBytes) }
            if let transportBytesPerStep { r.add("transport_bytes_per_step", transportBytesPerStep) }
            if let peerReadBytesPerStep { r.add("peer_read_bytes_per_step", peerReadBytesPerStep) }
            if let gflops { r.add("gflops", (gflops * 10).rounded() / 10) }
            if let sgemmFraction { r.add("of_sgemm", (sgemmFraction * 1000).rounded() / 1000) }
            return r.text
        }

        private func rounded(_ ms: Double) -> Double { (ms * 1000).rounded() / 1000 }
    }

    /// What a training workload times: a model, its loss, the data it
    /// reads, and (for the GFLOP/s figure) its arithmetic per sample.
    public struct Workload {
        public let name: String
        public let build: (inout RandomGenerator) -> any Module
        public let loss: Loss
        /// The training set the workload reads, from Fashion-MNIST's splits.
        public let trainingSet: (DatasetSplits) -> any Dataset
        /// FLOPs of one sample's training step, nil where not counted.
        public let trainingFLOPsPerSample: Double?

        public init(name: String, loss: Loss, trainingFLOPsPerSample: Double? = nil,
                    trainingSet: @escaping (DatasetSplits) -> any Dataset = { $0.train },
                    build: @escaping (inout RandomGenerator) -> any Module) {
            self.name = name
            self.build = build
            self.loss = loss
            self.trainingSet = trainingSet
            self.trainingFLOPsPerSample = trainingFLOPsPerSample
        }
    }

    /// The built-in workloads: `mlp` (784-128-10, cross-entropy), `ae`
    /// (784-64-784, BCE), `cnn` (the model zoo's CNN, cross-entropy), and
    /// `sgemm` (512^3 GFLOP/s), which is not a training workload.
    public static let workloads = ["mlp", "ae", "cnn", "sgemm"]

    /// The built-in training workload `name`: the registry model that
    /// `trainer train` runs, so that what is measured is what trains.
    public static func workload(named name: String) throws -> Workload {
        let spec: ModelSpec
        switch name {
        case "mlp": spec = ModelSpec(name: "mlp", hidden: 128)
        case "ae": spec = ModelSpec(name: "autoencoder", latent: 64)
        case "cnn": spec = ModelSpec(name: "cnn")
        default:
            throw TrainingError.invalidOption(.workload, "unknown workload '\(name)'; known: \(workloads.joined(separator: ", "))")
        }
        return Workload(name: name, loss: spec.objective.loss) { spec.build(generator: &$0) }
    }

    /// Times `workload` for about `seconds` (or exactly `steps` steps, for
    /// instruction-count profiling) after a warm-up. Under mpirun every rank
    /// runs the same number of steps (rank 0 decides) on its shard of the
    /// global batch, and the figures are global.
    public static func run(_ workload: Workload, batchSize: Int, threads: Int, seconds: Double, steps fixedSteps: Int? = nil,
                           data: DatasetSplits, communicator: Communicator? = nil, bucketMegabytes: Double = 1,
                           prefetch: Int = 2, deterministic: Bool = false, microBatches: Int? = nil,
                           shardOptimizer: Bool = true, sharedMemory: Bool = true) throws -> Result {
        BLAS.setThreads(threads)
        var generator = RandomGenerator(seed: 0)
        let model = workload.build(&generator)
        let parameters = ParameterSet(model)
        let rank = communicator?.rank ?? 0, worldSize = communicator?.size ?? 1
        let plan = deterministic
            ? try MicroBatchPlan(batchSize: batchSize, microBatches: microBatches ?? worldSize, rank: rank, worldSize: worldSize) : nil
        let shards = shardOptimizer && worldSize > 1 ? OptimizerShards(count: parameters.count, worldSize: worldSize) : nil
        let optimizer = Adam(parameters, shard: shards?.runs[rank])
        let step = try TrainingStep(model: model, parameters: parameters, optimizer: optimizer, loss: workload.loss,
                                    communicator: communicator, bucketBytes: Int(bucketMegabytes * 1_048_576), plan: plan,
                                    shards: shards, sharedMemory: sharedMemory)
        let train = workload.trainingSet(data)
        guard batchSize <= train.count else {
            throw TrainingError.invalidOption(.batchSize, "\(batchSize) is larger than the \(train.count) training samples")
        }
        let sampler = try DistributedBatchSampler(count: train.count, globalBatchSize: batchSize, rank: rank,
                                                  worldSize: worldSize, seed: 0, shuffle: true, dropLast: true)
        let loader = DataLoader(dataset: train, sampler: sampler, prefetch: prefetch)
        var batches = loader.batches(epoch: 0).makeIterator()
        var epoch = 0
        func nextBatch() -> Batch {
            if let b = batches.next() { return b }
            epoch += 1
            batches = loader.batches(epoch: epoch).makeIterator()
            return batches.next()!
        }
        func timeSteps(_ n: Int) throws -> Double {
            let start = Date()
            for _ in 0..<n { _ = try step(nextBatch(), position: (epoch + 1, 0)) }
            return Date().timeIntervalSince(start)
        }
        let warmup = 50
        let warmupSeconds = try timeSteps(warmup)
        // Rank 0 decides how many steps fill `seconds`; all ranks run that many.
        var count = [Int64(fixedSteps ?? max(20, Int(seconds / max(warmupSeconds / Double(warmup), 1e-6))))]
        if let communicator { count = try communicator.broadcast(count, root: 0) }
        try communicator?.barrier()
        let before = (wait: step.allreduceWaitSeconds, update: step.updateSeconds, gather: step.gatherSeconds,
                      agreement: step.agreementSeconds, transport: step.transportBytes, peerRead: step.peerReadBytes)
        let steps = Double(count[0])
        var elapsed = try timeSteps(Int(count[0]))
        // Per step on this rank: [compute, update, communication, and its parts: reduce, allgather, agreement]
        let update = (step.updateSeconds - before.update) / steps
        let reduce = (step.allreduceWaitSeconds - before.wait) / steps, allgather = (step.gatherSeconds - before.gather) / steps
        let agreement = (step.agreementSeconds - before.agreement) / steps
        let communication = reduce + allgather + agreement
        let mine = [elapsed / steps - update - communication, update, communication, reduce, allgather, agreement]
        var slowest = mine, fastest = mine.map { -$0 }  // the maximum of the negatives is the minimum
        if let communicator {
            elapsed = try communicator.allreduceMax(elapsed)
            try communicator.allreduceMax(&slowest)
            try communicator.allreduceMax(&fastest)
        }
        fastest = fastest.map { -$0 }
        var result = Result(workload: workload.name, batch: batchSize, threads: threads, worldSize: worldSize,
                            deterministic: deterministic, microBatches: plan?.microBatches,
                            shardedOptimizer: shards != nil,
                            samplesPerSecond: Double(Int(count[0]) * batchSize) / elapsed,
                            stepMilliseconds: elapsed / steps * 1000)
        if let flops = workload.trainingFLOPsPerSample, let rate = result.samplesPerSecond {
            result.gflops = flops * rate / 1e9
        }
        result.computeMilliseconds = slowest[0] * 1000
        result.optimizerMilliseconds = slowest[1] * 1000
        // The largest rank's: the runs differ by the 64-byte alignment.
        result.optimizerStateBytes = Int(try communicator?.allreduceMax(Int64(optimizer.stateBytes)) ?? Int64(optimizer.stateBytes))
        if let communicator, worldSize > 1 {
            result.communicationMilliseconds = slowest[2] * 1000
            result.communicationParts = (slowest[3] * 1000, slowest[4] * 1000, slowest[5] * 1000)
            // A fast rank waits, inside its communication, for the slowest one's compute and update.
            result.waitingMilliseconds = min((slowest[0] + slowest[1]) - (fastest[0] + fastest[1]), slowest[2]) * 1000
            result.rawAllreduceMilliseconds = try rawAllreduce(floats: parameters.count, communicator: communicator) * 1000
            result.gradientBytes = parameters.count * MemoryLayout<Float>.stride
            result.transportBytesPerStep = (step.transportBytes - before.transport) / Int(count[0])
            result.peerReadBytesPerStep = (step.peerReadBytes - before.peerRead) / Int(count[0])
        }
        return result
    }

    /// Mean seconds of one blocking in-place MPI_Allreduce of `floats` Float32.
    static func rawAllreduce(floats: Int, communicator: Communicator) throws -> Double {
        let storage = Storage(count: floats)
        for _ in 0..<10 { try communicator.allreduceSum(storage.buffer) }
        try communicator.barrier()
        let repetitions = 200
        let start = Date()
        for _ in 0..<repetitions { try communicator.allreduceSum(storage.buffer) }
        return try communicator.allreduceMax(Date().timeIntervalSince(start) / Double(repetitions))
    }

    /// GFLOP/s of a size^3 single-precision matrix product.
    public static func sgemm(size: Int = 512, threads: Int, seconds: Double) -> Result {
        BLAS.setThreads(threads)
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
