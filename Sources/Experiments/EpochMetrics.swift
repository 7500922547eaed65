import Foundation
import Training

/// One `"event":"epoch"` line of a metrics file, as the trainer writes it.
struct EpochMetrics: Sendable {
    var epoch: Int
    var step: Int
    var trainLoss: Double
    var testLoss: Double
    var testAccuracy: Double?
    var testMSE: Double?
    var trainAccuracy: Double?
    var seconds: Double

    /// The figures of a trainer's epoch record (every rank has them; no
    /// round trip through the metrics file).
    init(_ record: EpochRecord) {
        self.init(epoch: record.epoch, step: record.step, trainLoss: record.trainLoss, testLoss: record.test.loss,
                  testAccuracy: record.test.value(of: "accuracy"), testMSE: record.test.value(of: "mse"),
                  trainAccuracy: record.train?.value(of: "accuracy"), seconds: record.seconds)
    }

    init(epoch: Int, step: Int, trainLoss: Double, testLoss: Double, testAccuracy: Double?, testMSE: Double?,
         trainAccuracy: Double?, seconds: Double) {
        (self.epoch, self.step, self.trainLoss, self.testLoss) = (epoch, step, trainLoss, testLoss)
        (self.testAccuracy, self.testMSE, self.trainAccuracy, self.seconds) = (testAccuracy, testMSE, trainAccuracy, seconds)
    }
}

/// A finished run of a campaign: its name, its trainer (holding the trained
/// model) and its epoch figures.
struct RunResult {
    var name: String
    var trainer: Training.Trainer
    var epochs: [EpochMetrics]
    var seconds: Double

    var final: EpochMetrics? { epochs.last }
    var epochNumbers: [Double] { epochs.map { Double($0.epoch) } }
}

