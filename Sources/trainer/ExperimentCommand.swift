import ArgumentParser
import Experiments
import Foundation
import Training

/// `trainer experiment NAME`: one of the course's campaigns, written as a
/// report directory (report.md, PNG figures, metrics/).
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Run one of the course's experiment campaigns and write a report with figures.",
        discussion: Campaign.allCases.map { "\($0.rawValue): \($0.summary)" }.joined(separator: "\n"))

    @Argument(help: "Campaign: \(Campaign.allCases.map(\.rawValue).joined(separator: ", ")).")
    var name: String

    /// --dataset (default: mnist for the auto-encoder campaigns,
    /// fashion-mnist for optimizers; classifiers uses both) and --data-dir
    /// (for classifiers: of MNIST).
    @OptionGroup(title: "Data") var source: DataOptions

    @Option(parsing: .unconditional, help: "Epochs per run (default: 15, or 30 with --full).")
    var epochs: Int?

    @Option(help: "Output directory (default: experiments/NAME).")
    var out: String?

    @Flag(help: "The course's settings: whole data sets and more epochs (much longer).")
    var full = false

    @Flag(help: "A few steps on a few hundred images, to check that everything runs.")
    var tiny = false

    @Option(parsing: .unconditional, help: "Seed for initialisation and shuffling.")
    var seed: UInt64 = 0

    @OptionGroup var threading: ThreadsOption

    func run() throws {
        // Inside Job.run, a bad option is a permanent error (exit 64).
        let campaign = try Job.run(nil) {
            let campaign: Campaign
            do {
                campaign = try Campaign(named: name)
            } catch {
                throw CommandLineError("NAME", "\(error)")
            }
            if full && tiny { throw CommandLineError("--full", "and --tiny exclude each other") }
            if let epochs, epochs < 1 { throw TrainingError.invalidOption(.epochs, "must be at least 1, got \(epochs)") }
            if let threads = threading.threads, threads < 1 || threads > TrainingOptions.maximumThreads {
                throw TrainingError.invalidOption(.threads, "must be between 1 and \(TrainingOptions.maximumThreads), got \(threads)")
            }
            return campaign
        }
        var options = ExperimentOptions(outputDirectory: out ?? "experiments/\(campaign.rawValue)")
        options.scale = full ? .full : tiny ? .tiny : .standard
        options.dataset = source.dataset
        options.dataDirectory = source.dataDir
        options.epochs = epochs
        options.seed = seed
        let communicator = try Job.communicator()
        options.threads = threading.resolved(communicator)
        try Job.run(communicator) {
            try campaign.run(options, communicator: communicator)
        }
    }
}
