import Collective
import DataLoading
import NN
import TensorCore

/// Test-set figures. Sums and counts (not means) so that chunks evaluated on
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

/// Evaluates `model` on the whole of `dataset` without recording gradients,
/// every rank taking a share: the figures are the same bits at any world size.
///
/// The data set is cut into chunks of `chunkSize` samples at fixed positions
/// (the last may be shorter), each chunk one forward pass, so a chunk's sums
/// do not depend on who computes it. Rank r takes its contiguous run of
/// chunks; the chunk sums are exchanged exactly (each rank fills only its own
/// chunks' slots and the others add +0 there) and added in chunk order on
/// every rank. Reconstruction models report BCE as the loss and MSE beside
/// it, whatever they train on.
func evaluate(_ model: any Module, task: Task, dataset: any Dataset, chunkSize: Int,
              communicator: Communicator?) throws -> EvaluationResult {
    let chunks = (dataset.count + chunkSize - 1) / chunkSize
    let mine = EvaluationSampler.shard(count: chunks, rank: communicator?.rank ?? 0, worldSize: communicator?.size ?? 1)
    // Four sums per chunk: loss, squared error, correct, count.
    var sums = [Double](repeating: 0, count: chunks * 4)
    for chunk in mine {
        let start = chunk * chunkSize
        let result = evaluateChunk(model, task: task, dataset: dataset, start..<min(start + chunkSize, dataset.count))
        sums.replaceSubrange(chunk * 4..<chunk * 4 + 4,
                             with: [result.lossSum, result.squaredErrorSum, result.correct, result.count])
    }
    if let communicator, communicator.size > 1 { try communicator.allreduceSum(&sums) }
    var total = EvaluationResult()
    for chunk in 0..<chunks {
        total.lossSum += sums[chunk * 4]
        total.squaredErrorSum += sums[chunk * 4 + 1]
        total.correct += sums[chunk * 4 + 2]
        total.count += sums[chunk * 4 + 3]
    }
    return total
}

/// The sums of one forward pass over `dataset` positions `range`.
private func evaluateChunk(_ model: any Module, task: Task, dataset: any Dataset, _ range: Range<Int>) -> EvaluationResult {
    var result = EvaluationResult()
    let sampleSize = dataset.sampleShape.reduce(1, *)
    let n = range.count
    withNoGrad {
        let input = Tensor.uninitialized([n] + dataset.sampleShape)
        var labels = [Int32](repeating: 0, count: n)
        for i in 0..<n { labels[i] = dataset.copySample(at: range.lowerBound + i, into: input.data + i * sampleSize) }
        let output = model(input)
        let loss = taskLoss(task, output: output, input: input, labels: labels)
        result.lossSum = Double(loss.item()) * Double(n)
        result.count = Double(n)
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
            result.squaredErrorSum = Double(mse.item()) * Double(n)
        }
    }
    return result
}
