import Plotting
import Training

/// Campaign 3: one-layer versus deep versus highway auto-encoders, all with a 30-unit code.
enum DepthCampaign {
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
        report.table(["model", "parameters", "train loss", "test loss (BCE)", "test MSE", "seconds"], results.map { label, r in
            [label, String(r.trainer.parameters.count), fixed(r.final?.trainLoss ?? .nan), fixed(r.final?.testLoss ?? .nan),
             fixed(r.final?.testMSE ?? .nan, 5), fixed(r.seconds, 1)]
        })
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
