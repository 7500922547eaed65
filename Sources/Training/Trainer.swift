import DataLoading
import Foundation
import NN
import Optim
import TensorCore

/// The figures of one finished epoch (one `"event":"epoch"` metrics line).
public struct EpochRecord: Sendable {
    public var epoch: Int
    /// Optimizer steps taken so far in the run.
    public var step: Int
    public var trainLoss: Double
    public var test: EvaluationResult
    public var samplesPerSecond: Double
    public var seconds: Double
}

/// Trains one model: forward, loss, backward, optimizer step, per batch;
/// evaluation, a log line and a metrics record per epoch.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let model: any Module
    public let parameters: ParameterSet
    public let optimizer: any Optimizer
    public let data: DatasetSplits
    public let progress: ProgressReporter
    private let metrics: MetricsLog?
    private let sampler: DistributedBatchSampler
    /// Optimizer steps taken so far.
    public private(set) var globalStep = 0

    /// Builds the model from `configuration.seed`, loads the data set (or
    /// uses `data`), and opens the metrics file.
    public init(configuration: TrainingConfiguration, data: DatasetSplits? = nil, showProgress: Bool = true) throws {
        try configuration.validate()
        self.configuration = configuration
        BLAS.setThreads(configuration.threads)
        let data = try data ?? DatasetCatalog.load(name: configuration.dataset, dataDirectory: configuration.dataDirectory)
        self.data = data
        var spec = configuration.model
        spec.inputShape = data.train.sampleShape
        try spec.validate()  // against the data set's sample shape
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
        sampler = try DistributedBatchSampler(count: data.train.count, globalBatchSize: configuration.batchSize,
                                              seed: configuration.seed, shuffle: configuration.shuffle, dropLast: true)
        guard sampler.stepsPerEpoch > 0 else {
            throw TrainingError.invalidOption("--batch-size", "\(configuration.batchSize) is larger than the \(data.train.count) training samples")
        }
        progress = ProgressReporter(enabled: showProgress)
        metrics = try configuration.metricsPath.map { try MetricsLog(path: $0) }
    }

    var task: Task { configuration.model.task }

    /// Runs every epoch (or until `maxSteps`) and returns their records.
    @discardableResult
    public func run() throws -> [EpochRecord] {
        let c = configuration
        if let note = data.note { progress.log("note: \(note)") }
        progress.log("training \(c.model.name) on \(c.dataset) (\(data.train.count) train / \(data.test.count) test), "
                     + "\(parameters.count) parameters, \(c.optimizer.rawValue) lr \(c.learningRate), batch \(c.batchSize), seed \(c.seed)")
        let loader = DataLoader(dataset: data.train, sampler: sampler)
        var records: [EpochRecord] = []
        for epoch in 1...c.epochs {
            if let maxSteps = c.maxSteps, globalStep >= maxSteps { break }
            let stepsThisEpoch = min(sampler.stepsPerEpoch, (c.maxSteps ?? .max) - globalStep)
            progress.startEpoch()
            let start = Date()
            var lossSum = 0.0
            var samples = 0
            var stepInEpoch = 0
            for batch in loader.batches(epoch: epoch - 1) {
                if stepInEpoch >= stepsThisEpoch { break }
                let loss = try trainStep(batch, epoch: epoch)
                lossSum += Double(loss) * Double(batch.count)
                samples += batch.count
                stepInEpoch += 1
                let elapsed = Date().timeIntervalSince(start)
                progress.update(epoch: epoch, epochs: c.epochs, step: stepInEpoch, total: stepsThisEpoch,
                                loss: Float(lossSum / Double(samples)), samplesPerSecond: Double(samples) / elapsed,
                                elapsed: elapsed)
            }
            let seconds = Date().timeIntervalSince(start)
            let test = evaluateTestSet()
            let record = EpochRecord(epoch: epoch, step: globalStep, trainLoss: lossSum / Double(max(samples, 1)),
                                     test: test, samplesPerSecond: Double(samples) / seconds, seconds: seconds)
            records.append(record)
            report(record)
        }
        return records
    }

    /// One optimizer step on `batch`; returns the batch's mean loss.
    public func trainStep(_ batch: Batch, epoch: Int) throws -> Float {
        parameters.zeroGrad()
        let input = Tensor(shape: batch.shape, values: batch.inputs)
        let output = model(input)
        let loss = taskLoss(task, output: output, input: input, labels: batch.labels,
                            reconstructionLoss: configuration.model.loss)
        let value = loss.item()
        guard value.isFinite else {
            throw TrainingError.nonFiniteLoss(epoch: epoch, step: globalStep + 1, value: value)
        }
        loss.backward()
        optimizer.step()
        globalStep += 1
        return value
    }

    /// Loss and accuracy (or reconstruction error) on the whole test set.
    public func evaluateTestSet() -> EvaluationResult {
        evaluate(model, task: task, dataset: data.test, shard: 0..<data.test.count,
                 batchSize: configuration.evaluationBatchSize)
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
