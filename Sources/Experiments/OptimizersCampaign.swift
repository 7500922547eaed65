import ModelZoo
import Plotting
import Training

/// Campaign 4: softmax regression and a 128-unit FFNN, SGD lr 0.005 versus Adam's defaults.
enum OptimizersCampaign {
    static func run(_ runner: CampaignRunner) throws {
        let options = runner.options
        let data = try runner.load(options.dataset ?? "fashion-mnist")
        let runs: [(run: String, label: String, model: String, optimizer: TrainingConfiguration.OptimizerKind, lr: Float)] = [
            ("softmax-sgd", "softmax SGD", "softmax", .sgd, 0.005),
            ("softmax-adam", "softmax Adam", "softmax", .adam, 0.001),
            ("ffnn-sgd", "FFNN SGD", "mlp", .sgd, 0.005),
            ("ffnn-adam", "FFNN Adam", "mlp", .adam, 0.001),
        ]
        runner.plannedRuns = runs.count
        var results: [(label: String, result: RunResult)] = []
        for r in runs {
            var c = runner.configuration(ModelSpec(name: r.model, hidden: 128), run: r.run)
            c.optimizer = r.optimizer
            c.learningRate = r.lr
            c.trainEvaluationSamples = data.test.count
            results.append((r.label, try runner.train(c, run: r.run, label: r.label, data: data)))
        }
        guard runner.isRoot else { return }
        var loss = LinePlot(title: "Training loss: SGD lr 0.005 vs Adam", xLabel: "epoch", yLabel: "cross-entropy (train)")
        var accuracy = LinePlot(title: "Accuracy: train (solid) and test (dashed)", xLabel: "epoch", yLabel: "accuracy",
                                yScale: .linear)
        for (i, (label, r)) in results.enumerated() {
            loss.add(label, x: r.epochNumbers, y: r.epochs.map(\.trainLoss), color: .series(i))
            accuracy.add("\(label) train", x: r.epochNumbers, y: r.epochs.map { $0.trainAccuracy ?? .nan }, color: .series(i))
            accuracy.add("\(label) test", x: r.epochNumbers, y: r.epochs.map { $0.testAccuracy ?? .nan }, color: .series(i), dashed: true)
        }
        try runner.save(loss.render(), "optimizers_loss.png")
        try runner.save(accuracy.render(), "optimizers_accuracy.png")

        var report = Report()
        report.heading("Optimizers: SGD lr 0.005 versus Adam")
        report.paragraph("Softmax regression (Linear(784, 10)) and an FFNN (784-128-10, ReLU), each trained with plain SGD "
                         + "(lr 0.005) and with Adam (lr 0.001, betas 0.9/0.999), batch \(options.batchSize), "
                         + "\(options.resolvedEpochs) epochs. Train accuracy is measured on the first \(data.test.count) "
                         + "training images after each epoch.")
        report.paragraph(runner.describe(data))
        report.heading("Per epoch", level: 2)
        var rows: [[String]] = []
        for (label, r) in results {
            for e in r.epochs {
                rows.append([label, String(e.epoch), fixed(e.trainLoss), percent(e.trainAccuracy ?? .nan), percent(e.testAccuracy ?? .nan)])
            }
        }
        report.table(["run", "epoch", "train loss", "train accuracy", "test accuracy"], rows)
        report.heading("Conclusion", level: 2)
        var items: [String] = []
        for model in ["softmax", "FFNN"] {
            guard let sgd = results.first(where: { $0.label == "\(model) SGD" })?.result,
                  let adam = results.first(where: { $0.label == "\(model) Adam" })?.result,
                  let sgd1 = sgd.epochs.first, let adam1 = adam.epochs.first else { continue }
            let ahead = (adam1.testAccuracy ?? 0) > (sgd1.testAccuracy ?? 0)
            items.append("\(model): after epoch 1, Adam \(percent(adam1.testAccuracy ?? .nan)) vs SGD \(percent(sgd1.testAccuracy ?? .nan)) "
                         + "test accuracy: \(ahead ? "Adam is ahead early on" : "Adam is NOT ahead") (train loss \(fixed(adam1.trainLoss)) vs "
                         + "\(fixed(sgd1.trainLoss))); after the last epoch \(percent(adam.final?.testAccuracy ?? .nan)) vs "
                         + "\(percent(sgd.final?.testAccuracy ?? .nan)).")
        }
        report.bullets(items)
        report.figure("training loss", "optimizers_loss.png")
        report.figure("accuracy", "optimizers_accuracy.png")
        try runner.finish(report)
    }
}
