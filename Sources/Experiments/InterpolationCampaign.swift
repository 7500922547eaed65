import ModelZoo
import NN
import Plotting
import TensorCore
import Training

/// Campaign 6: walk the auto-encoder's code space from a 2 to a 7, and show
/// the best and worst reconstructed test images.
enum InterpolationCampaign {
    static func run(_ runner: CampaignRunner) throws {
        let options = runner.options
        let latent = 32
        let data = try runner.load(options.dataset ?? "mnist")
        runner.plannedRuns = 1
        let result = try runner.train(runner.configuration(ModelSpec(name: "autoencoder", latent: latent), run: "autoencoder"),
                                      run: "autoencoder", label: "autoencoder latent \(latent)", data: data)
        guard runner.isRoot else { return }
        guard let model = result.trainer.model as? AutoEncoder else {
            throw ExperimentError.unexpectedModel("interpolation", "an AutoEncoder")
        }
        let test = data.test
        let (w, h) = (test.width, test.height)
        guard let a = (0..<test.count).first(where: { test.label(at: $0) == 2 }) else { throw ExperimentError.missingSample("image labelled 2") }
        guard let b = (0..<test.count).first(where: { test.label(at: $0) == 7 }) else { throw ExperimentError.missingSample("image labelled 7") }
        let codes = Inference.rows(model.encoder, Inference.batch(test, [a, b]).reshaped([2, test.sampleSize]))
        let lambdas = (1...9).map { Double($0) / 10 }
        let mixed = lambdas.flatMap { l in zip(codes[0], codes[1]).map { Float(1 - l) * $0 + Float(l) * $1 } }
        let decoded = Inference.rows(model.decoder, Tensor(shape: [lambdas.count, latent], values: mixed))
        let images = Inference.images(test, [a, b])
        let pixelMix = lambdas.map { l in zip(images[0], images[1]).map { Float(1 - l) * $0 + Float(l) * $1 } }
        func tile(_ p: [Float], _ caption: String) -> ImageGrid.Tile { ImageGrid.Tile(pixels: p, width: w, height: h, caption: [caption]) }
        let strip = ImageGrid(title: "Decoding (1 - l) z_2 + l z_7 for l = 0.1 ... 0.9 (captions: l)", rows: [
            ImageGrid.Row(label: "code space", tiles: [tile(images[0], "the 2")] + zip(lambdas, decoded).map { tile($1, "\($0)") }
                + [tile(images[1], "the 7")]),
            ImageGrid.Row(label: "pixel space", tiles: [tile(images[0], "the 2")] + zip(lambdas, pixelMix).map { tile($1, "\($0)") }
                + [tile(images[1], "the 7")]),
        ], scale: 3)
        try runner.save(strip.render(), "interpolation.png")

        let losses = Inference.reconstructionLosses(model, test)
        let order = losses.indices.sorted { losses[$0] < losses[$1] }
        let count = min(8, order.count / 2)
        let best = Array(order.prefix(count)), worst = Array(order.suffix(count).reversed())
        func rows(_ label: String, _ indices: [Int]) -> [ImageGrid.Row] {
            let originals = Inference.images(test, indices)
            let outputs = Inference.rows(model, Inference.batch(test, indices))
            return [
                ImageGrid.Row(label: "\(label): input", tiles: zip(indices, originals).map { tile($1, fixed(losses[$0], 3)) }),
                ImageGrid.Row(label: "output", tiles: outputs.map { ImageGrid.Tile(pixels: $0, width: w, height: h) }),
            ]
        }
        try runner.save(ImageGrid(title: "Best and worst reconstructed test images (BCE per pixel)",
                                  rows: rows("best", best) + rows("worst", worst), scale: 3).render(), "best_worst.png")

        var report = Report()
        report.heading("Interpolation in the auto-encoder's code space")
        report.paragraph("Auto-encoder 784 -> \(latent) -> 784 (BCE, Adam lr 0.001, batch \(options.batchSize), "
                         + "\(options.resolvedEpochs) epochs). The first 2 (test image \(a)) and the first 7 (test image \(b)) "
                         + "are encoded to z_2 and z_7, and (1 - l) z_2 + l z_7 is decoded for l = 0.1 ... 0.9. "
                         + "The second row blends the pixels instead, for comparison.")
        report.paragraph(runner.describe(data))
        report.table(["run", "train loss", "test loss (BCE)", "test MSE"],
                     [["autoencoder \(latent)", fixed(result.final?.trainLoss ?? .nan), fixed(result.final?.testLoss ?? .nan),
                       fixed(result.final?.testMSE ?? .nan, 5)]])
        report.figure("interpolation strip", "interpolation.png")
        report.heading("Best and worst reconstructions", level: 2)
        report.table(["", "test image", "label", "BCE per pixel"],
                     best.map { ["best", String($0), String(test.label(at: $0)), fixed(losses[$0])] }
                        + worst.map { ["worst", String($0), String(test.label(at: $0)), fixed(losses[$0])] })
        let mean = losses.reduce(0, +) / Double(max(losses.count, 1))
        report.paragraph("Per-image loss ranges from \(fixed(losses[order.first ?? 0])) to \(fixed(losses[order.last ?? 0])) "
                         + "(mean \(fixed(mean))). The best are thin, simple strokes (often 1s); the worst are thick, unusual "
                         + "or ambiguous shapes the small code cannot hold.")
        report.figure("best and worst reconstructions", "best_worst.png")
        try runner.finish(report)
    }
}
