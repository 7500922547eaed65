import ModelZoo
import Plotting
import Training

/// Campaign 3: one-layer versus deep versus highway auto-encoders, all with a 30-unit code.
enum DepthCampaign {
    /// The course's train / test MSE (MNIST) by run: one layer (latent 30),
    /// three layers 500-100-30, highway.
    static let course: [String: (train: Double, test: Double)] = [
        "one-layer": (0.0236, 0.0234), "deep": (0.0127, 0.0131), "highway-5": (0.0175, 0.0173), "highway-10": (0.0175, 0.0173),
    ]

    static func run(_ runner: CampaignRunner) throws {
        let options = runner.options
        let tiny = options.scale == .tiny
        let models: [(run: String, label: String, spec: ModelSpec)] = [
            ("one-layer", "one-layer 30", ModelSpec(name: "autoencoder", latent: 30)),
            ("deep", "deep 500-100-30", ModelSpec(name: "deep-autoencoder", layers: tiny ? [64, 30] : [500, 100, 30])),
            ("highway-5", "highway x5", ModelSpec(name: "highway", hidden: 128, latent: 30, depth: tiny ? 2 : 5, task: .reconstruct)),
            ("highway-10", "highway x10", ModelSpec(name: "highway", hidden: 128, latent: 30, depth: tiny ? 3 : 10, task: .reconstruct)),
        ]
        let data = try runner.load(options.dataset ?? "mnist")
        runner.plannedRuns = models.count
        var results: [(label: String, result: RunResult)] = []
        for m in models {
            results.append((m.label, try runner.train(runner.configuration(m.spec, run: m.run), run: m.run, label: m.label, data: data)))
        }
        guard runner.isRoot else { return }
        try runner.save(Figures.lossCurves(results, title: "One-layer vs deep vs highway auto-encoders (code 30)"), "depth_curves.png")
        try runner.save(Figures.reconstructions(results.map { ($0.label, $0.result.trainer.model) }, data: data.test,
                                                indices: Figures.sampleIndices(data.test), title: "Reconstructions side by side"),
                        "depth_reconstructions.png")

        var report = Report()
        report.heading("Depth: one-layer, deep and highway auto-encoders")
        report.paragraph("All four have a 30-unit code. One-layer: 784 -> 30 -> 784. Deep: 784-500-100-30 and mirrored. "
                         + "Highway: Linear(784, 128), 5 or 10 highway layers of width 128, Linear(128, 30), and the mirror "
                         + "image as decoder. BCE, Adam lr 0.001, batch \(options.batchSize), \(options.resolvedEpochs) epochs.")
        report.paragraph(runner.describe(data))
        report.heading("Final losses", level: 2)
        report.table(["model", "parameters", "train loss", "test loss (BCE)", "test MSE", "course: train / test MSE", "seconds"],
                     zip(models, results).map { m, result in
            let (label, r) = result
            let theirs = course[m.run].map { "\(fixed($0.train)) / \(fixed($0.test))" } ?? "-"
            return [label, String(r.trainer.parameters.count), fixed(r.final?.trainLoss ?? .nan), fixed(r.final?.testLoss ?? .nan),
                    fixed(r.final?.testMSE ?? .nan, 5), theirs, fixed(r.seconds, 1)]
        })
        let mse = zip(models, results).map { ($0.run, $1.result.final?.testMSE ?? .nan) }
        let ours = mse.filter { $0.0 != "highway-10" }.sorted { $0.1 < $1.1 }.map(\.0)
        let theirs = ["deep", "highway-5", "one-layer"]
        report.paragraph("By test MSE, lowest first: \(ours.joined(separator: ", ")) (highway x5 standing for the course's highway); "
                         + "the course's order is deep (0.0131), highway (0.0173), one-layer (0.0234)"
                         + (ours == theirs ? ", the same." : ": a different order here, with \(data.train.count) training images "
                            + "for \(options.resolvedEpochs) epochs against the course's 60,000 MNIST images."))
        let test = results.map { ($0.label, $0.result.final?.testLoss ?? .nan) }
        let oneLayer = test[0].1
        report.heading("Conclusion", level: 2)
        report.bullets(test.dropFirst().map { label, loss in
            let verdict = loss < oneLayer ? "lower than" : "NOT lower than"
            return "\(label): test loss \(fixed(loss)), \(verdict) the one-layer model's \(fixed(oneLayer))"
        })
        report.paragraph("Ordering by test loss: \(chain(test.sorted { $0.1 > $1.1 })).")
        report.figure("loss curves", "depth_curves.png")
        report.figure("reconstructions", "depth_reconstructions.png")
        try runner.finish(report)
    }
}
