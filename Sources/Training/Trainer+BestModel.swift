import Checkpoint
import Foundation
import SafeFiles

/// `--keep-best` and `--early-stop`: the best epoch so far of the watched
/// metric, kept in every checkpoint (`/extra`), so that a resumed run keeps
/// the same best model and stops at the same epoch as an uninterrupted one.
struct BestSoFar: Equatable {
    /// The best value of the metric, nil before the first evaluation.
    var value: Double?
    /// The 1-based epoch it came from.
    var epoch = 0
    /// Epochs evaluated since it last improved.
    var epochsWithoutImprovement = 0

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

    init() {}

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

    /// Rank 0 writes the state at `position` (an epoch's end) as `best.h5`,
    /// atomically (temporary file, fsync, rename). Never pruned by `--keep`.
    func saveBest(_ position: Position) throws {
        let buffers = try gatheredOptimizerState()  // collective: every rank takes part
        guard rank == 0 else { return }
        let directory = CheckpointDirectory(options.checkpointDirectory ?? "runs/\(identity.name)")
        let destination = directory.path(of: Self.bestFileName)
        let temporary = directory.path(of: "." + Self.bestFileName + ".tmp")
        do {
            try CheckpointFile.write(snapshot(position: position, optimizerBuffers: buffers), to: temporary)
            try durableReplace(temporary: temporary, destination: destination)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw TrainingError.checkpoint("--keep-best: writing \(destination) failed: \(error)")
        }
        if let metric = options.keepBest, let value = best.value {
            progress.log("best \(metric) so far: \(value) at epoch \(best.epoch), kept in \(destination)")
        }
    }

    /// Why early stopping has ended the run, or nil while it goes on.
    func earlyStopMessage() -> String? {
        guard let patience = options.earlyStopPatience, let metric = options.keepBest,
              best.epochsWithoutImprovement >= patience else { return nil }
        return "\(metric) has not improved for \(best.epochsWithoutImprovement) epoch(s) (--early-stop \(patience)); "
            + "the best, \(best.value.map { "\($0)" } ?? "none"), was at epoch \(best.epoch)"
    }
}
