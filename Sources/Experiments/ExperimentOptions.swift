/// How big a campaign's runs are.
public enum ExperimentScale: String, Sendable, CaseIterable {
    /// A few steps on a few hundred images: for tests (seconds).
    case tiny
    /// Subsets and a few epochs: a few minutes per campaign on 2 cores.
    case standard
    /// The course's settings: whole data sets, more epochs.
    case full
}

/// The settings of `trainer experiment NAME`.
public struct ExperimentOptions: Sendable {
    /// Where report.md, the figures and metrics/ go.
    public var outputDirectory: String
    public var scale: ExperimentScale = .standard
    /// The data set of the campaign (nil: its own default; `classifiers` always uses both).
    public var dataset: String?
    /// Directory of the data set's files; for `classifiers`, of MNIST.
    public var dataDirectory: String?
    /// Epochs per run (nil: the scale's default).
    public var epochs: Int?
    public var seed: UInt64 = 0
    /// BLAS threads per process.
    public var threads = 1
    /// Print one progress line per run (rank 0).
    public var verbose = true

    public init(outputDirectory: String) { self.outputDirectory = outputDirectory }

    /// Training images used per run (nil: all of them).
    var trainLimit: Int? {
        switch scale {
        case .tiny: 384
        case .standard: 8000
        case .full: nil
        }
    }

    /// Test images used per run (nil: all of them).
    var testLimit: Int? {
        switch scale {
        case .tiny: 200
        case .standard: 2000
        case .full: nil
        }
    }

    /// Epochs per run.
    var resolvedEpochs: Int {
        if let epochs { return epochs }
        switch scale {
        case .tiny: return 2
        case .standard: return 15
        case .full: return 30
        }
    }

    var batchSize: Int { scale == .tiny ? 32 : 64 }
}
