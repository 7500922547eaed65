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

    /// The epoch records of the JSON-lines file at `path`, in order.
    static func read(_ path: String) throws -> [EpochMetrics] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["event"] as? String == "epoch" else { return nil }
            func number(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
            return EpochMetrics(epoch: Int(number("epoch") ?? 0), step: Int(number("step") ?? 0),
                                trainLoss: number("train_loss") ?? .nan, testLoss: number("test_loss") ?? .nan,
                                testAccuracy: number("test_accuracy"), testMSE: number("test_mse"),
                                trainAccuracy: number("train_accuracy"), seconds: number("epoch_seconds") ?? 0)
        }
    }
}

/// A finished run of a campaign: its name, its trainer (holding the trained
/// model) and, on rank 0, the epoch metrics read back from its file.
struct RunResult {
    var name: String
    var trainer: Training.Trainer
    var epochs: [EpochMetrics]
    var seconds: Double

    var final: EpochMetrics? { epochs.last }
    var epochNumbers: [Double] { epochs.map { Double($0.epoch) } }
}

