import Foundation
import NN
import RunLog

extension Trainer {
    /// The model's layer table (`trainer train --summary`): every layer with
    /// its output shape and parameter count for one sample, and the total.
    public var modelSummary: String {
        model.summary(inputShape: [1] + trainSet.sampleShape)
    }

    /// Writes `modelSummary` where the progress lines go (rank 0 only).
    public func logModelSummary() {
        progress.log(modelSummary)
    }
}

extension Trainer {
    /// Refuses a batch whose activations cannot fit, before the first step
    /// (where the allocation would be fatal): one sample's activations are
    /// measured by a forward pass on a batch of one, then counted twice
    /// (kept for backward, and their gradients) for each sample of the
    /// largest forward pass on this rank, plus an evaluation chunk's.
    static func checkActivationMemory(_ model: any Module, sampleShape: [Int], options c: TrainingOptions, worldSize: Int) throws {
        let perSample = model.activationCount(inputShape: [1] + sampleShape)
        let local = (c.batchSize + worldSize - 1) / worldSize
        let pass = c.deterministic ? c.batchSize / (c.microBatches ?? worldSize * c.accumulate)
            : (local + c.accumulate - 1) / c.accumulate
        let training = Double(perSample) * Double(pass) * 4 * 2
        let evaluation = Double(perSample) * Double(c.evaluationBatchSize) * 4
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        func gigabytes(_ bytes: Double) -> String { String(format: "%.1f", bytes / 1e9) }
        if training > memory / 2 {
            throw TrainingError.invalidOption(.batchSize, "\(pass) samples per forward pass on each rank need about "
                                              + "\(gigabytes(training)) GB of activations (\(perSample) values per sample, kept for "
                                              + "backward with their gradients), more than half of this machine's \(gigabytes(memory)) GB; "
                                              + "use a smaller --batch-size, more ranks, or --accumulate K to cut each pass into K")
        }
        if evaluation > memory / 2 {
            throw TrainingError.invalidOption(.evaluationBatchSize, "\(c.evaluationBatchSize) samples per evaluation chunk need about "
                                              + "\(gigabytes(evaluation)) GB of activations; choose a smaller one")
        }
    }
}
