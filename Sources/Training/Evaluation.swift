import Collective
import DataLoading
import NN
import TensorCore

/// Test-set figures. Sums and counts (not means) so that shards evaluated on
/// different ranks combine exactly.
public struct EvaluationResult: Sendable, Equatable {
    /// Sum over samples of the task loss (cross-entropy or BCE).
    public var lossSum: Double = 0
    /// Sum over samples of the pixel MSE (reconstruction only).
    public var squaredErrorSum: Double = 0
    /// Correctly classified samples (classification only).
    public var correct: Double = 0
    /// Samples evaluated.
    public var count: Double = 0

    public init() {}

    /// The sums over every rank's shard (this result alone without a world).
    public func summed(over communicator: Communicator?) throws -> EvaluationResult {
        guard let communicator, communicator.size > 1 else { return self }
        var sums = [lossSum, squaredErrorSum, correct, count]
        try communicator.allreduceSum(&sums)
        var total = self
        (total.lossSum, total.squaredErrorSum, total.correct, total.count) = (sums[0], sums[1], sums[2], sums[3])
        return total
    }

    public var loss: Double { count > 0 ? lossSum / count : .nan }
    public var meanSquaredError: Double { count > 0 ? squaredErrorSum / count : .nan }
    public var accuracy: Double { count > 0 ? correct / count : .nan }
}

/// Computes the loss of `output` for `task` and the batch it came from:
/// cross-entropy against `labels`, or `reconstructionLoss` (BCE or MSE)
/// against the input pixels.
func taskLoss(_ task: Task, output: Tensor, input: Tensor, labels: [Int32],
              reconstructionLoss: ReconstructionLoss = .bce) -> Tensor {
    switch (task, reconstructionLoss) {
    case (.classify, _):
        crossEntropy(logits: output, labels: labels)
    case (.reconstruct, .bce):
        binaryCrossEntropy(predicted: output, expected: input.reshaped(output.shape))
    case (.reconstruct, .mse):
        meanSquaredError(predicted: output, expected: input.reshaped(output.shape))
    }
}

/// Evaluates `model` on `dataset` positions `shard` (this rank's contiguous
/// part of the test set), without recording gradients. Reconstruction
/// models report BCE as the loss and MSE beside it, whatever they train on.
func evaluate(_ model: any Module, task: Task, dataset: any Dataset, shard: Range<Int>,
              batchSize: Int) -> EvaluationResult {
    var result = EvaluationResult()
    let sampleSize = dataset.sampleShape.reduce(1, *)
    withNoGrad {
        var start = shard.lowerBound
        while start < shard.upperBound {
            let n = min(batchSize, shard.upperBound - start)
            let input = Tensor.uninitialized([n] + dataset.sampleShape)
            var labels = [Int32](repeating: 0, count: n)
            for i in 0..<n { labels[i] = dataset.copySample(at: start + i, into: input.data + i * sampleSize) }
            let output = model(input)
            let loss = taskLoss(task, output: output, input: input, labels: labels)
            result.lossSum += Double(loss.item()) * Double(n)
            result.count += Double(n)
            switch task {
            case .classify:
                let classes = output.shape[1]
                for i in 0..<n {
                    let row = output.data + i * classes
                    var best = 0
                    for j in 1..<classes where row[j] > row[best] { best = j }
                    if best == Int(labels[i]) { result.correct += 1 }
                }
            case .reconstruct:
                let mse = meanSquaredError(predicted: output, expected: input.reshaped(output.shape))
                result.squaredErrorSum += Double(mse.item()) * Double(n)
            }
            start += n
        }
    }
    return result
}
