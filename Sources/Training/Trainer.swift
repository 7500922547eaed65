import Collective
import DataLoading
import Foundation
import NN
import Optim
import TensorCore

/// The figures of one finished epoch (one `"event":"epoch"` metrics line),
/// reduced over all ranks.
public struct EpochRecord: Sendable {
    public var epoch: Int
    /// Optimizer steps taken so far in the run.
    public var step: Int
    public var trainLoss: Double
    public var test: EvaluationResult
    /// Global samples (all ranks) per second.
    public var samplesPerSecond: Double
    public var seconds: Double
}

/// Trains one model, alone or as one rank of a data-parallel job: each rank
/// takes its slice of every global batch, gradients are averaged across
/// ranks, and every rank applies the same update, so all hold the same model.
/// Rank 0 alone prints and writes metrics.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let model: any Module
    public let parameters: ParameterSet
    public let optimizer: any Optimizer
    public let data: DatasetSplits
    public let progress: ProgressReporter
    /// The job's communicator; nil when running alone without mpirun.
    public let communicator: Communicator?
    public let rank: Int
    public let worldSize: Int
    private let metrics: MetricsLog?
    private let sampler: DistributedBatchSampler
    private let step: TrainingStep
    /// Optimizer steps taken so far.
    public private(set) var globalStep = 0

    /// Builds the model from `configuration.seed`, loads the data set (or
    /// uses `data`), makes every rank start from rank 0's parameters, and
    /// opens the metrics file on rank 0.
    public init(configuration: TrainingConfiguration, data: DatasetSplits? = nil,
                communicator: Communicator? = nil, showProgress: Bool = true) throws {
        try configuration.validate()
        self.configuration = configuration
        self.communicator = communicator
        rank = communicator?.rank ?? 0
        worldSize = communicator?.size ?? 1
        BLAS.setThreads(configuration.threads)
        let data = try data ?? DatasetCatalog.load(name: configuration.dataset, dataDirectory: configuration.dataDirectory)
        self.data = data
        var spec = configuration.model
        spec.inputShape = data.train.sampleShape
        var generator = RandomGenerator(seed: configuration.seed)
        model = spec.build(generator: &generator)
        parameters = ParameterSet(model)
        switch configuration.optimizer {
        case .sgd:
            optimizer = SGD(parameters, learningRate: configuration.learningRate, momentum: configuration.momentum,
                            weightDecay: configuration.weightDecay)
        case .adam:
            optimizer = Adam(parameters, learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
        }
        do {
            sampler = try DistributedBatchSampler(count: data.train.count, globalBatchSize: configuration.batchSize,
                                                  rank: rank, worldSize: worldSize, seed: configuration.seed,
                                                  shuffle: configuration.shuffle, dropLast: true)
        } catch {
            throw TrainingError.invalidOption("--batch-size", "\(error)")
        }
        guard sampler.stepsPerEpoch > 0 else {
            throw TrainingError.invalidOption("--batch-size", "\(configuration.batchSize) is larger than the \(data.train.count) training samples")
        }
        // Same seed, same initialisation on every rank; the broadcast makes
        // that a guarantee rather than an assumption.
        try communicator?.broadcast(parameters.values.buffer, root: 0)
        step = TrainingStep(model: model, parameters: parameters, optimizer: optimizer, task: configuration.model.task,
                            communicator: communicator, bucketBytes: Int(configuration.bucketMegabytes * 1_048_576))
        progress = ProgressReporter(enabled: showProgress && rank == 0)
        metrics = rank == 0 ? try configuration.metricsPath.map { try MetricsLog(path: $0) } : nil
    }

    var task: Task { configuration.model.task }

    /// Optimizer steps per epoch (the same on every rank).
    public var stepsPerEpoch: Int { sampler.stepsPerEpoch }

    /// Seconds this rank spent waiting for gradient allreduces.
    public var allreduceWaitSeconds: Double { step.allreduceWaitSeconds }

    /// Runs every epoch (or until `maxSteps`) and returns their records.
    @discardableResult
    public func run() throws -> [EpochRecord] {
        let c = configuration
        if let note = data.note { progress.log("note: \(note)") }
        progress.log("training \(c.model.name) on \(c.dataset) (\(data.train.count) train / \(data.test.count) test), "
                     + "\(parameters.count) parameters, \(c.optimizer.rawValue) lr \(c.learningRate), "
                     + "global batch \(c.batchSize) over \(worldSize) rank\(worldSize == 1 ? "" : "s"), seed \(c.seed)")
        let loader = DataLoader(dataset: data.train, sampler: sampler, prefetch: c.prefetch)
        var records: [EpochRecord] = []
        for epoch in 1...c.epochs {
            if let maxSteps = c.maxSteps, globalStep >= maxSteps { break }
            let stepsThisEpoch = min(sampler.stepsPerEpoch, (c.maxSteps ?? .max) - globalStep)
            progress.startEpoch()
            let start = Date()
            var lossSum = 0.0
            var localSamples = 0
            var stepInEpoch = 0
            for batch in loader.batches(epoch: epoch - 1) {
                if stepInEpoch >= stepsThisEpoch { break }
                let loss = try step(batch, position: (epoch, globalStep + 1))
                globalStep += 1
                if c.checkReplicas { try checkReplicas() }
                lossSum += Double(loss) * Double(batch.count)
                localSamples += batch.count
                stepInEpoch += 1
                let elapsed = Date().timeIntervalSince(start)
                let globalSamples = stepInEpoch * c.batchSize
                progress.update(epoch: epoch, epochs: c.epochs, step: stepInEpoch, total: stepsThisEpoch,
                                loss: Float(lossSum / Double(localSamples)),
                                samplesPerSecond: Double(globalSamples) / elapsed, elapsed: elapsed)
            }
            let seconds = Date().timeIntervalSince(start)
            var sums = [lossSum, Double(localSamples)]
            try communicator?.allreduceSum(&sums)
            let test = try evaluateTestSet()
            let record = EpochRecord(epoch: epoch, step: globalStep, trainLoss: sums[0] / max(sums[1], 1),
                                     test: test, samplesPerSecond: sums[1] / seconds, seconds: seconds)
            records.append(record)
            report(record)
        }
        if let path = c.saveParametersPath, rank == 0 { try saveParameters(to: path) }
        return records
    }

    /// FNV-1a over the bytes of every parameter.
    public func parameterChecksum() -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let bytes = UnsafeRawBufferPointer(parameters.values.buffer)
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    /// Throws unless every rank holds bitwise the same parameters.
    private func checkReplicas() throws {
        guard let communicator, worldSize > 1 else { return }
        let mine = parameterChecksum()
        let root = try communicator.broadcast([mine], root: 0)[0]
        let differing = try communicator.allreduceSum(mine == root ? Int64(0) : Int64(1))
        if differing != 0 { throw TrainingError.replicasDiverged(step: globalStep) }
    }

    /// Writes the parameters as raw little-endian float32, state_dict order.
    public func saveParameters(to path: String) throws {
        let data = Data(buffer: UnsafeBufferPointer(parameters.values.buffer))
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw TrainingError.cannotWrite(path: path, reason: error.localizedDescription)
        }
    }

    /// Loss and accuracy (or reconstruction error) on the whole test set:
    /// each rank evaluates its contiguous shard (no padding, no duplicates)
    /// and the sums are added, so the figures are exact for any world size.
    public func evaluateTestSet() throws -> EvaluationResult {
        let shard = EvaluationSampler.shard(count: data.test.count, rank: rank, worldSize: worldSize)
        var local = evaluate(model, task: task, dataset: data.test, shard: shard,
                             batchSize: configuration.evaluationBatchSize)
        guard let communicator, worldSize > 1 else { return local }
        var sums = [local.lossSum, local.squaredErrorSum, local.correct, local.count]
        try communicator.allreduceSum(&sums)
        (local.lossSum, local.squaredErrorSum, local.correct, local.count) = (sums[0], sums[1], sums[2], sums[3])
        return local
    }

    private func report(_ r: EpochRecord) {
        var line = "epoch \(r.epoch)/\(configuration.epochs): train_loss \(format(r.trainLoss, 4)) "
            + "test_loss \(format(r.test.loss, 4)) "
        switch task {
        case .classify: line += "test_accuracy \(format(r.test.accuracy, 4)) "
        case .reconstruct: line += "test_mse \(format(r.test.meanSquaredError, 5)) "
        }
        line += "\(Int(r.samplesPerSecond)) samples/s \(format(r.seconds, 1))s"
        progress.log(line)
        guard let metrics else { return }
        var json = JSONRecord()
        json.add("event", "epoch")
        json.add("epoch", r.epoch)
        json.add("step", r.step)
        json.add("model", configuration.model.name)
        json.add("world_size", worldSize)
        json.add("train_loss", r.trainLoss)
        json.add("test_loss", r.test.loss)
        switch task {
        case .classify: json.add("test_accuracy", r.test.accuracy)
        case .reconstruct: json.add("test_mse", r.test.meanSquaredError)
        }
        json.add("samples_per_s", r.samplesPerSecond)
        json.add("epoch_seconds", r.seconds)
        metrics.append(json)
    }
}
