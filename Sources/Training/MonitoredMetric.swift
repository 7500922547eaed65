/// A figure of the epoch metrics that `--keep-best` and `--early-stop`
/// watch: `val_loss`, `test_accuracy`, `train_loss`, ... (the metrics
/// line's names).
public struct MonitoredMetric: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Which evaluation the figure comes from.
    public enum Split: String, Sendable, Codable {
        case train, validation = "val", test
    }

    public var split: Split
    /// "loss" or a metric's name ("accuracy").
    public var name: String

    /// Parses "val_loss", "test_accuracy", "train_loss".
    public init(_ text: String) throws {
        let parts = text.split(separator: "_", maxSplits: 1).map(String.init)
        guard parts.count == 2, let split = Split(rawValue: parts[0]), !parts[1].isEmpty,
              split != .train || parts[1] == "loss" else {
            throw TrainingError.invalidOption("--keep-best", "'\(text)' is not a metric: use val_loss, val_accuracy, test_loss, "
                                              + "test_accuracy (or test_/val_ and another metric's name) or train_loss")
        }
        self.split = split
        name = parts[1]
    }

    public var description: String { "\(split.rawValue)_\(name)" }

    /// Losses improve downwards, everything else (accuracy) upwards.
    public var higherIsBetter: Bool { name != "loss" && !name.hasSuffix("error") }

    /// Whether `value` is better than `best` (nil: nothing yet). NaN never is.
    public func improves(_ value: Double, on best: Double?) -> Bool {
        guard !value.isNaN else { return false }
        guard let best else { return true }
        return higherIsBetter ? value > best : value < best
    }
}
