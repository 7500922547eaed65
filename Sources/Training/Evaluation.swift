import Collective
import DataLoading
import NN
import TensorCore

/// Evaluation figures. Sums and counts (not means) so that chunks evaluated
/// on different ranks combine exactly.
public struct EvaluationResult: Sendable, Equatable {
    /// Sum over samples of the evaluation loss.
    public var lossSum: Double = 0
    /// Samples evaluated.
    public var count: Double = 0
    /// Each metric's name, sum and count, in the order the metrics were given.
    public var metrics: [(name: String, sum: Double, count: Double)] = []

    public init() {}

    public var loss: Double { count > 0 ? lossSum / count : .nan }

    /// The value of the metric `name` (its sum over its count), nil if there is none.
    public func value(of name: String) -> Double? {
        metrics.first { $0.name == name }.map { $0.count > 0 ? $0.sum / $0.count : .nan }
    }

    /// The "accuracy" metric (NaN without one).
    public var accuracy: Double { value(of: "accuracy") ?? .nan }
    /// The "mse" metric (NaN without one).
    public var meanSquaredError: Double { value(of: "mse") ?? .nan }

    public static func == (a: EvaluationResult, b: EvaluationResult) -> Bool {
        a.lossSum == b.lossSum && a.count == b.count && a.metrics.count == b.metrics.count
            && zip(a.metrics, b.metrics).allSatisfy { $0.name == $1.name && $0.sum == $1.sum && $0.count == $1.count }
    }
}

/// The loss and metrics a run reports, and how a batch becomes their inputs.
package struct Objective {
    package let loss: Loss
    /// The loss reported by evaluation (the training loss unless set).
    package let evaluationLoss: Loss
    package let metrics: [Metric]

    package init(loss: Loss, evaluationLoss: Loss, metrics: [Metric]) {
        self.loss = loss
        self.evaluationLoss = evaluationLoss
        self.metrics = metrics
    }

    /// The targets of `batch`'s samples, with `input` its features.
    static func targets(_ input: Tensor, labels: [Int32], targets: [Float], targetShape: [Int]) -> BatchTargets {
        let tensor = targetShape.isEmpty ? nil : Tensor(shape: [labels.count] + targetShape, values: targets)
        return BatchTargets(input: input, labels: labels, targets: tensor)
    }
}

/// Evaluates `model` on the whole of `dataset` without recording gradients,
/// every rank taking a share: the figures are the same bits at any world size.
///
/// The data set is cut into chunks of `chunkSize` samples at fixed positions
/// (the last may be shorter), each chunk one forward pass, so a chunk's sums
/// do not depend on who computes it. Rank r takes its contiguous run of
/// chunks; the chunk sums are exchanged exactly (each rank fills only its own
/// chunks' slots and the others add +0 there) and added in chunk order on
/// every rank.
func evaluate(_ model: any Module, objective: Objective, dataset: any Dataset, chunkSize: Int,
              communicator: Communicator?) throws -> EvaluationResult {
    let chunks = (dataset.count + chunkSize - 1) / chunkSize
    let mine = EvaluationSampler.shard(count: chunks, rank: communicator?.rank ?? 0, worldSize: communicator?.size ?? 1)
    // Per chunk: loss sum, count, then a sum and a count per metric.
    let width = 2 + 2 * objective.metrics.count
    var sums = [Double](repeating: 0, count: chunks * width)
    for chunk in mine {
        let start = chunk * chunkSize
        let values = evaluateChunk(model, objective: objective, dataset: dataset, start..<min(start + chunkSize, dataset.count))
        sums.replaceSubrange(chunk * width..<(chunk + 1) * width, with: values)
        // A sample read from a file failed (it holds NaN): the error, not a NaN loss.
        if let failure = dataset.readFailure { throw failure }
    }
    if let communicator, communicator.size > 1 { try communicator.allreduceSum(&sums) }
    var total = EvaluationResult()
    total.metrics = objective.metrics.map { ($0.name, 0, 0) }
    for chunk in 0..<chunks {
        let row = sums[chunk * width..<(chunk + 1) * width].map { $0 }
        total.lossSum += row[0]
        total.count += row[1]
        for m in total.metrics.indices {
            total.metrics[m].sum += row[2 + 2 * m]
            total.metrics[m].count += row[3 + 2 * m]
        }
    }
    return total
}

/// The sums of one forward pass over `dataset` positions `range`, as
/// [loss sum, count, metric sums and counts...].
private func evaluateChunk(_ model: any Module, objective: Objective, dataset: any Dataset, _ range: Range<Int>) -> [Double] {
    let sampleSize = dataset.sampleSize, targetShape = dataset.targetShape, targetSize = dataset.targetSize
    let n = range.count
    return withNoGrad {
        let input = Tensor.uninitialized([n] + dataset.sampleShape)
        var labels = [Int32](repeating: 0, count: n)
        var targets = [Float](repeating: 0, count: n * targetSize)
        targets.withUnsafeMutableBufferPointer { t in
            for i in 0..<n {
                labels[i] = dataset.copySample(at: range.lowerBound + i, into: input.data + i * sampleSize)
                if targetSize > 0 { dataset.copyTarget(at: range.lowerBound + i, into: t.baseAddress! + i * targetSize) }
            }
        }
        let batch = Objective.targets(input, labels: labels, targets: targets, targetShape: targetShape)
        let output = model(input)
        var values = [Double(objective.evaluationLoss(output, batch).item()) * Double(n), Double(n)]
        for metric in objective.metrics {
            let (sum, count) = metric(output, batch)
            values += [sum, count]
        }
        return values
    }
}
