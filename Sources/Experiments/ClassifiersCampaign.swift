import DataLoading
import ModelZoo
import Plotting
import Training

/// Campaign 5: FFNN versus CNN on MNIST and Fashion-MNIST.
enum ClassifiersCampaign {
    static func run(_ runner: CampaignRunner) throws {
        let options = runner.options
        let sets: [(name: String, label: String, data: DatasetSplits)] = [
            ("mnist", "MNIST", try runner.load("mnist")),
            ("fashion-mnist", "Fashion", try runner.load("fashion-mnist", usesDataDirectory: false)),
        ]
        let models = [("ffnn", "FFNN", ModelSpec(name: "mlp", hidden: 128)), ("cnn", "CNN", ModelSpec(name: "cnn"))]
        runner.plannedRuns = sets.count * models.count
        var results: [(set: Int, model: Int, result: RunResult)] = []
        for (s, set) in sets.enumerated() {
            for (m, model) in models.enumerated() {
                let run = "\(set.name)-\(model.0)"
                results.append((s, m, try runner.train(runner.configuration(model.2, run: run), run: run,
                                                       label: "\(model.1) on \(set.label)", data: set.data)))
            }
        }
        guard runner.isRoot else { return }
        var rows: [ImageGrid.Row] = []
        var confusion: [String] = []
        var errorCounts: [String] = []
        for (s, m, result) in results {
            let test = sets[s].data.test
            let names = test.classNames
            let predicted = Inference.predictions(result.trainer.model, test)
            let wrong = (0..<test.count).filter { predicted[$0] != Int(test.label(at: $0)) }
            errorCounts.append("\(models[m].1) on \(sets[s].label): \(wrong.count) of \(test.count) test images misclassified")
            let tiles = wrong.prefix(8).map { i in
                ImageGrid.Tile(pixels: test[i].input, width: test.width, height: test.height,
                               caption: ["p: \(names[predicted[i]])", "t: \(names[Int(test.label(at: i))])"])
            }
            rows.append(ImageGrid.Row(label: "\(sets[s].label) \(models[m].1)", tiles: tiles))
            if models[m].0 == "cnn" {
                var matrix = Array(repeating: Array(repeating: 0.0, count: names.count), count: names.count)
                for i in 0..<test.count { matrix[Int(test.label(at: i))][predicted[i]] += 1 }
                let file = "confusion_\(sets[s].name).png"
                try runner.save(HeatMap(title: "Confusion matrix: CNN on \(sets[s].label) (\(test.count) test images)",
                                        values: matrix, rowLabels: names, columnLabels: names,
                                        rowTitle: "true class", columnTitle: "predicted class").render(), file)
                confusion.append(file)
            }
        }
        try runner.save(ImageGrid(title: "Misclassified test images (p: predicted, t: true)", rows: rows, scale: 3).render(),
                        "classifiers_misclassified.png")
        var plot = LinePlot(title: "Test accuracy per epoch", xLabel: "epoch", yLabel: "test accuracy", yScale: .linear)
        for (s, m, r) in results {
            plot.add("\(models[m].1) \(sets[s].label)", x: r.epochNumbers, y: r.epochs.map { $0.testAccuracy ?? .nan },
                     color: .series(s * 2 + m), dashed: m == 0)
        }
        try runner.save(plot.render(), "classifiers_accuracy.png")

        var report = Report()
        report.heading("Classifiers: FFNN versus CNN")
        report.paragraph("FFNN: 784-128-10 with ReLU. CNN: Conv(1,8,5)-ReLU-MaxPool(2)-Conv(8,16,5)-ReLU-MaxPool(2)-Linear(256,10). "
                         + "Adam lr 0.001, batch \(options.batchSize), \(options.resolvedEpochs) epochs.")
        report.bullets(sets.map { runner.describe($0.data) })
        report.heading("Test accuracy after the last epoch", level: 2)
        report.table(["data set"] + models.map(\.1) + ["FFNN parameters", "CNN parameters"], sets.indices.map { s in
            let pair = results.filter { $0.set == s }
            return [sets[s].label] + pair.map { percent($0.result.final?.testAccuracy ?? .nan) }
                + pair.map { String($0.result.trainer.parameters.count) }
        })
        report.heading("Conclusion", level: 2)
        var items = errorCounts
        for s in sets.indices {
            let pair = results.filter { $0.set == s }.map { $0.result.final?.testAccuracy ?? .nan }
            items.append("\(sets[s].label): the \(pair[1] > pair[0] ? "CNN" : "FFNN") is more accurate "
                         + "(\(percent(max(pair[0], pair[1]))) vs \(percent(min(pair[0], pair[1]))))")
        }
        report.bullets(items)
        report.figure("test accuracy per epoch", "classifiers_accuracy.png")
        report.figure("misclassified test images", "classifiers_misclassified.png")
        for file in confusion { report.figure("confusion matrix", file) }
        try runner.finish(report)
    }
}
