import Collective
import Training

/// The course's experiment campaigns, each one command that writes a report
/// directory (`trainer experiment NAME`).
public enum Campaign: String, Sendable, CaseIterable {
    case latent, tied, depth, optimizers, classifiers, interpolation, momentum

    /// One line saying what the campaign compares.
    public var summary: String {
        switch self {
        case .latent: "auto-encoder latent size sweep: loss curves, final table, reconstructions per size"
        case .tied: "tied versus classic auto-encoder at several latent sizes"
        case .depth: "one-layer versus deep (500-100-30) versus highway auto-encoders"
        case .optimizers: "softmax regression and FFNN, SGD lr 0.005 versus Adam"
        case .classifiers: "FFNN versus CNN on MNIST and Fashion-MNIST: accuracy, mistakes, confusion matrix"
        case .interpolation: "latent-space interpolation between a 2 and a 7; best and worst reconstructions"
        case .momentum: "least squares by gradient descent with and without momentum"
        }
    }

    /// The campaign called `name`.
    /// - Throws: `ExperimentError.unknownCampaign` listing the known ones.
    public init(named name: String) throws {
        guard let campaign = Campaign(rawValue: name) else {
            throw ExperimentError.unknownCampaign(name)
        }
        self = campaign
    }

    /// Runs the campaign: every rank trains (the trainers' collectives run
    /// in the same order on all ranks); rank 0 alone writes the report, the
    /// figures and the metrics under `options.outputDirectory`.
    /// - Returns: the report's path (on every rank).
    @discardableResult
    public func run(_ options: ExperimentOptions, communicator: Communicator? = nil) throws -> String {
        let runner = try CampaignRunner(campaign: self, options: options, communicator: communicator)
        switch self {
        case .latent: try LatentCampaign.run(runner)
        case .tied: try TiedCampaign.run(runner)
        case .depth: try DepthCampaign.run(runner)
        case .optimizers: try OptimizersCampaign.run(runner)
        case .classifiers: try ClassifiersCampaign.run(runner)
        case .interpolation: try InterpolationCampaign.run(runner)
        case .momentum: try MomentumCampaign.run(runner)
        }
        return runner.reportPath
    }
}

/// What can go wrong in a campaign, beyond training errors. Like
/// `TrainingError`, `description` names an option by its flag and
/// `swiftDescription` by its Swift name.
public enum ExperimentError: Error, CustomStringConvertible {
    case unknownCampaign(String)
    case invalidOption(OptionKey, String)
    case missingSample(String)
    /// The trainer built another model than the campaign asked for (the campaign's name, what it expected).
    case unexpectedModel(String, String)

    public var description: String {
        switch self {
        case .unknownCampaign(let name):
            "unknown experiment '\(name)'; known experiments: \(Campaign.allCases.map(\.rawValue).joined(separator: ", "))"
        case .invalidOption(let key, let problem): "\(key.flag): \(problem)"
        case .missingSample(let what): "the test set has no \(what)"
        case .unexpectedModel(let campaign, let expected): "\(campaign): expected the trainer to build \(expected)"
        }
    }

    /// The message for a Swift program's user: an option named by its Swift name.
    public var swiftDescription: String {
        guard case let .invalidOption(key, problem) = self else { return description }
        return "\(key.swiftName): \(problem)"
    }
}
