import ModelZoo
import Training

/// Campaign 1: the auto-encoder's latent size, 10 to 256.
enum LatentCampaign {
    static func run(_ runner: CampaignRunner) throws {
        let options = runner.options
        let sizes = options.scale == .tiny ? [8, 32] : [10, 32, 64, 128, 256]
        let data = try runner.load(options.dataset ?? "mnist")
        runner.plannedRuns = sizes.count
        var results: [(label: String, result: RunResult)] = []
        for latent in sizes {
            let c = runner.configuration(ModelSpec(name: "autoencoder", latent: latent), run: "latent-\(latent)")
            results.append(("latent \(latent)", try runner.train(c, run: "latent-\(latent)", label: "latent \(latent)", data: data)))
        }
        guard runner.isRoot else { return }
        try runner.save(Figures.lossCurves(results, title: "Auto-encoder loss by latent size"), "latent_curves.png")
        let indices = Figures.sampleIndices(data.test)
        try runner.save(Figures.reconstructions(results.map { ($0.label, $0.result.trainer.model) }, data: data.test,
                                                indices: indices, title: "Test images and their reconstructions by latent size"),
                        "latent_reconstructions.png")

        var report = Report()
        report.heading("Latent size sweep")
        report.paragraph("One-hidden-layer auto-encoder (784 -> latent -> 784, ReLU code, sigmoid output), trained with "
                         + "binary cross-entropy, Adam lr 0.001, batch \(options.batchSize), \(options.resolvedEpochs) epochs, "
                         + "for latent sizes \(sizes.map(String.init).joined(separator: ", ")).")
        report.paragraph(runner.describe(data))
        report.heading("Final losses", level: 2)
        report.table(["latent", "parameters", "train loss", "test loss (BCE)", "test MSE"], results.map { label, r in
            [label.replacingOccurrences(of: "latent ", with: ""), String(r.trainer.parameters.count),
             fixed(r.final?.trainLoss ?? .nan), fixed(r.final?.testLoss ?? .nan), fixed(r.final?.testMSE ?? .nan, 5)]
        })
        let losses = results.map { ($0.label.replacingOccurrences(of: "latent ", with: ""), $0.result.final?.testLoss ?? .nan) }
        let decreasing = zip(losses, losses.dropFirst()).allSatisfy { $0.1 > $1.1 }
        report.heading("Conclusion", level: 2)
        if decreasing {
            report.paragraph("Test loss decreases with the latent size: \(chain(losses)). A wider code keeps more of the image, "
                             + "as the course found.")
        } else {
            report.paragraph("Test loss does not decrease strictly with the latent size at these settings: \(chain(losses, ", ")). "
                             + "The largest codes need more epochs than this run gave them.")
        }
        report.figure("loss curves", "latent_curves.png")
        report.figure("reconstructions", "latent_reconstructions.png")
        try runner.finish(report)
    }
}
