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
            throw TrainingError.invalidOption(.keepBest, "'\(text)' is not a metric: use val_loss, val_accuracy, test_loss, "
                                              + "test_accuracy (or test_/val_ and another metric's name) or train_loss")
        }
        self.split = split
        name = parts[1]
    }

    public var description: String { "\(split.rawValue)_\(name)" }

    /// Which way this figure improves, as its metric declares (a loss:
    /// lower); throws unless a model reporting `metrics` (besides its loss),
    /// with or without a validation set, reports it. The error lists those
    /// it does.
    func direction(among metrics: [Metric], validation: Bool) throws -> Metric.Better {
        let reported = ["loss"] + metrics.map(\.name)
        let splits: [Split] = validation ? [.train, .validation, .test] : [.train, .test]
        guard splits.contains(split), split == .train ? name == "loss" : reported.contains(name) else {
            let names = splits.flatMap { s in s == .train ? ["train_loss"] : reported.map { "\(s.rawValue)_\($0)" } }
            throw TrainingError.invalidOption(.keepBest, "this model does not report \(self); it reports "
                                              + names.joined(separator: ", "))
        }
        return metrics.first { $0.name == name }?.better ?? .lower
    }
}
