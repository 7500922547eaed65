import NN

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
