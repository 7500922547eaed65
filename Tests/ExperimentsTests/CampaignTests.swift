import Experiments
import Foundation
import Testing

/// Runs a tiny version of each campaign and checks the files it writes.
@Suite(.serialized) struct CampaignTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The real MNIST test set beside the project (../shared/data/mnist), if present.
    static let sharedMNIST = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/mnist").path
    static var hasMNIST: Bool { FileManager.default.fileExists(atPath: sharedMNIST + "/t10k-images-idx3-ubyte.gz") }
    static var hasFashionMNIST: Bool {
        FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
    }

    /// A test that needs MNIST skips, saying so, without it.
    static let needsMNIST = Testing.ConditionTrait.enabled(if: hasMNIST, "needs the MNIST test set in ../shared/data/mnist")
    static let needsFashion = Testing.ConditionTrait.enabled(if: hasFashionMNIST,
                                                             "needs Fashion-MNIST (dataset-fashion-mnist)")

    /// Runs `campaign` at the tiny scale into a fresh directory (the tests'
    /// traits skip them when a data set is missing).
    func run(_ campaign: Campaign, needsMNIST: Bool = true, needsFashion: Bool = false) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("experiment-\(campaign.rawValue)-\(UUID().uuidString)")
        var options = ExperimentOptions(outputDirectory: directory.path)
        options.scale = .tiny
        options.verbose = false
        if needsMNIST { options.dataDirectory = Self.sharedMNIST }
        let report = try campaign.run(options)
        #expect(report == directory.appendingPathComponent("report.md").path)
        return directory
    }

    /// Checks report.md (its tables and figure links) and the PNGs it names.
    func check(_ directory: URL, figures: [String], tableHeader: String, metrics: [String]) throws {
        let report = try String(contentsOf: directory.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains(tableHeader), "report lacks the table starting '\(tableHeader)'")
        #expect(report.contains("| ---"), "report has no markdown table")
        #expect(report.contains("## Conclusion") || report.contains("Per-image loss"))
        for figure in figures {
            #expect(report.contains("](\(figure))"), "report does not embed \(figure)")
            let data = try Data(contentsOf: directory.appendingPathComponent(figure))
            #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(figure) is not a PNG")
            #expect(data.count > 1000, "\(figure) is only \(data.count) bytes")
        }
        for file in metrics {
            let text = try String(contentsOf: directory.appendingPathComponent("metrics/\(file)"), encoding: .utf8)
            #expect(text.contains("\"event\":\"epoch\"") || file.hasSuffix(".csv"), "\(file) holds no epoch records")
        }
        try? FileManager.default.removeItem(at: directory)
    }

    @Test(Self.needsMNIST) func latent() throws {
        let dir = try run(.latent)
        try check(dir, figures: ["latent_curves.png", "latent_reconstructions.png"], tableHeader: "| latent | parameters |",
                  metrics: ["latent-8.jsonl", "latent-32.jsonl"])
    }

    @Test(Self.needsMNIST) func tied() throws {
        let dir = try run(.tied)
        try check(dir, figures: ["tied_curves.png"], tableHeader: "| model | latent 10 | latent 50 |",
                  metrics: ["classic-10.jsonl", "tied-50.jsonl"])
    }

    @Test(Self.needsMNIST) func depth() throws {
        let dir = try run(.depth)
        try check(dir, figures: ["depth_curves.png", "depth_reconstructions.png"], tableHeader: "| model | parameters |",
                  metrics: ["one-layer.jsonl", "deep.jsonl", "highway-5.jsonl", "highway-10.jsonl"])
    }

    @Test(Self.needsFashion) func optimizers() throws {
        let dir = try run(.optimizers, needsMNIST: false, needsFashion: true)
        let metrics = try String(contentsOf: dir.appendingPathComponent("metrics/ffnn-adam.jsonl"), encoding: .utf8)
        #expect(metrics.contains("train_accuracy"))
        try check(dir, figures: ["optimizers_loss.png", "optimizers_accuracy.png"], tableHeader: "| run | epoch | train loss |",
                  metrics: ["softmax-sgd.jsonl", "ffnn-adam.jsonl"])
    }

    @Test(Self.needsMNIST, Self.needsFashion) func classifiers() throws {
        let dir = try run(.classifiers, needsFashion: true)
        try check(dir, figures: ["classifiers_accuracy.png", "classifiers_misclassified.png", "confusion_mnist.png",
                                 "confusion_fashion-mnist.png"],
                  tableHeader: "| data set | FFNN | CNN |", metrics: ["mnist-cnn.jsonl", "fashion-mnist-ffnn.jsonl"])
    }

    @Test(Self.needsMNIST) func interpolation() throws {
        let dir = try run(.interpolation)
        try check(dir, figures: ["interpolation.png", "best_worst.png"], tableHeader: "| run | train loss |",
                  metrics: ["autoencoder.jsonl"])
    }

    @Test func momentum() throws {
        let dir = try run(.momentum, needsMNIST: false)
        try check(dir, figures: ["momentum.png"], tableHeader: "| iteration |", metrics: ["momentum.csv"])
    }

    @Test func unknownNamesListTheCampaigns() {
        #expect(throws: Error.self) { try Campaign(named: "nope") }
        do {
            _ = try Campaign(named: "nope")
        } catch {
            #expect("\(error)".contains("latent, tied, depth, optimizers, classifiers, interpolation, momentum"))
        }
    }
}
