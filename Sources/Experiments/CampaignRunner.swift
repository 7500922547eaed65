import Collective
import DataLoading
import Foundation
import ModelZoo
import NN
import Plotting
import RunLog
import SafeFiles
import TensorCore
import Training

/// What every campaign shares: the output directory, the data, training one
/// run with a fresh checkpoint directory and its own metrics file, one
/// progress line per run, and writing figures and the report (rank 0 only).
final class CampaignRunner {
    let campaign: Campaign
    let options: ExperimentOptions
    let communicator: Communicator?
    let isRoot: Bool
    let directory: String
    private var runsDone = 0
    var plannedRuns = 0
    private let started = Date()

    init(campaign: Campaign, options: ExperimentOptions, communicator: Communicator?) throws {
        self.campaign = campaign
        self.options = options
        self.communicator = communicator
        isRoot = (communicator?.rank ?? 0) == 0
        directory = options.outputDirectory
        if let epochs = options.epochs, epochs < 1 {
            throw ExperimentError.invalidOption(.epochs, "must be at least 1, got \(epochs)")
        }
        if isRoot {
            for sub in ["", "metrics", "runs"] { try Self.makeDirectory(path(sub)) }
        }
    }

    /// `mkdir -p path`; the error names --out, the component that failed
    /// and why, not Foundation's dump of it.
    static func makeDirectory(_ path: String) throws {
        do {
            try createDirectories(at: path)
        } catch {
            throw ExperimentError.invalidOption(.outputDirectory, "cannot create the directory \(path): \(error)")
        }
    }

    var reportPath: String { path("report.md") }

    func path(_ name: String) -> String {
        name.isEmpty ? directory : (directory as NSString).appendingPathComponent(name)
    }

    /// Loads data set `name` (the campaign's `--data-dir` applies when
    /// `usesDataDirectory`) and keeps the scale's subsets.
    func load(_ name: String, usesDataDirectory: Bool = true) throws -> DatasetSplits {
        let full = try DatasetCatalog.load(name: name, dataDirectory: usesDataDirectory ? options.dataDirectory : nil)
        let train = full.train.subset(0..<min(options.trainLimit ?? full.train.count, full.train.count))
        let test = full.test.subset(0..<min(options.testLimit ?? full.test.count, full.test.count))
        return DatasetSplits(name: full.name, directory: full.directory, train: train, test: test, note: full.note)
    }

    /// A sentence on the data used, with the split note when there is one.
    func describe(_ data: DatasetSplits) -> String {
        var text = "Data set `\(data.name)` from `\(data.directory)`: \(data.train.count) training and \(data.test.count) test images"
        if let limit = options.trainLimit { text += " (at most \(limit) training images at this scale)" }
        text += "."
        if let note = data.note { text += " Note: \(note)." }
        return text
    }

    /// A configuration with the campaign's common settings for run `run`.
    func configuration(_ model: ModelSpec, run: String) -> TrainingConfiguration {
        var c = TrainingConfiguration(model: model)
        c.epochs = options.resolvedEpochs
        c.batchSize = options.batchSize
        c.seed = options.seed
        c.threads = options.threads
        c.savesCheckpoints = false  // a campaign's runs are short: rerun, not resumed
        c.metricsPath = path("metrics/\(run).jsonl")
        c.prefetch = 0
        return c
    }

    /// Trains one run, printing one progress line (rank 0).
    func train(_ configuration: TrainingConfiguration, run: String, label: String, data: DatasetSplits) throws -> RunResult {
        if isRoot {
            // A rerun of the campaign starts its metrics file afresh.
            if let path = configuration.metricsPath { try? FileManager.default.removeItem(atPath: path) }
        }
        let start = Date()
        let trainer = try Trainer(configuration: configuration, data: data, communicator: communicator, showProgress: false)
        try trainer.run()
        let seconds = Date().timeIntervalSince(start)
        let epochs = trainer.records.map(EpochMetrics.init)
        runsDone += 1
        if isRoot && options.verbose, let last = epochs.last {
            var line = "[\(campaign.rawValue) \(runsDone)/\(max(plannedRuns, runsDone))] \(label): \(last.epoch) epochs "
                + "in \(String(format: "%.1f", seconds)) s, train loss \(fixed(last.trainLoss)), test loss \(fixed(last.testLoss))"
            if let accuracy = last.testAccuracy { line += ", test accuracy \(percent(accuracy))" }
            print(line)
            fflush(nil)
        }
        return RunResult(name: run, trainer: trainer, epochs: epochs, seconds: seconds)
    }

    /// Writes `image` as DIR/`file` (rank 0), as every file this program
    /// writes: `replaceFile`, never through a link planted at the name.
    func save(_ image: RGBImage, _ file: String) throws {
        guard isRoot else { return }
        try replaceFile(at: path(file), with: PNGEncoder.encode(image))
    }

    /// Writes the report (rank 0), with the campaign's wall time at the end.
    func finish(_ report: Report) throws {
        guard isRoot else { return }
        var report = report
        report.paragraph("Raw metrics: `metrics/` (JSON lines, one `\"event\":\"epoch\"` record per epoch, as `trainer train --metrics` writes). "
                         + "Campaign wall time: \(String(format: "%.1f", Date().timeIntervalSince(started))) s, "
                         + "scale `\(options.scale.rawValue)`, seed \(options.seed), \(communicator?.size ?? 1) rank(s).")
        try report.write(to: reportPath)
        if options.verbose { print("[\(campaign.rawValue)] report: \(reportPath)") }
    }
}
