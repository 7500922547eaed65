import Checkpoint

/// `--keep-best` and `--early-stop`: the best epoch so far of the watched
/// metric, kept in every checkpoint (`/extra`), so that a resumed run keeps
/// the same best model and stops at the same epoch as an uninterrupted one.
package struct BestSoFar: Equatable {
    /// The best value of the metric, nil before the first evaluation.
    package var value: Double?
    /// The 1-based epoch it came from.
    package var epoch = 0
    /// Epochs evaluated since it last improved.
    package var epochsWithoutImprovement = 0

    /// Takes `record`'s value of `metric`, which is better when `better`;
    /// returns whether it improved (a new best to keep). NaN never does.
    mutating func update(with record: EpochRecord, metric: MonitoredMetric?, better: Metric.Better) -> Bool {
        guard let metric else { return false }
        let value = record.value(of: metric) ?? .nan
        let improves = !value.isNaN && self.value.map { better == .higher ? value > $0 : value < $0 } ?? !value.isNaN
        guard improves else {
            epochsWithoutImprovement += 1
            return false
        }
        self.value = value
        epoch = record.epoch
        epochsWithoutImprovement = 0
        return true
    }

    /// As `/extra` attributes (exact: the value's bits).
    func extras(metric: MonitoredMetric?) -> [String: String] {
        var extra = ["best_epoch": String(epoch), "epochs_without_improvement": String(epochsWithoutImprovement)]
        if let metric { extra["best_metric"] = metric.description }
        if let value { extra["best_value_bits"] = String(value.bitPattern) }
        return extra
    }

    package init() {}

    /// Read back from a checkpoint's extras (absent: nothing yet).
    init(extras: [String: String]) {
        value = extras["best_value_bits"].flatMap(UInt64.init).map(Double.init(bitPattern:))
        epoch = extras["best_epoch"].flatMap(Int.init) ?? 0
        epochsWithoutImprovement = extras["epochs_without_improvement"].flatMap(Int.init) ?? 0
    }
}

extension EpochRecord {
    /// The figure `metric` names in this record, nil if it was not measured.
    public func value(of metric: MonitoredMetric) -> Double? {
        switch metric.split {
        case .train: metric.name == "loss" ? trainLoss : nil
        case .validation: validation.flatMap { metric.name == "loss" ? $0.loss : $0.value(of: metric.name) }
        case .test: metric.name == "loss" ? test.loss : test.value(of: metric.name)
        }
    }
}

extension Trainer {
    /// The file `--keep-best` writes beside the rolling checkpoints.
    public static let bestFileName = "best.h5"

    /// Why early stopping has ended the run, or nil while it goes on.
    func earlyStopMessage() -> String? {
        guard let patience = options.earlyStopPatience, let metric = options.keepBest,
              runState.best.epochsWithoutImprovement >= patience else { return nil }
        return "\(metric) has not improved for \(runState.best.epochsWithoutImprovement) epoch(s) (--early-stop \(patience)); "
            + "the best, \(runState.best.value.map { "\($0)" } ?? "none"), was at epoch \(runState.best.epoch)"
    }
}
