import DataLoading
import NN
import Plotting

/// Figures several campaigns draw the same way.
enum Figures {
    /// Train (solid) and test (dashed) loss per epoch, one colour per run.
    static func lossCurves(_ runs: [(label: String, result: RunResult)], title: String, train: Bool = true) -> RGBImage {
        var plot = LinePlot(title: title, xLabel: "epoch", yLabel: "BCE loss per pixel")
        for (i, run) in runs.enumerated() {
            let color = Color.series(i)
            if train { plot.add("\(run.label) train", x: run.result.epochNumbers, y: run.result.epochs.map(\.trainLoss), color: color) }
            plot.add("\(run.label) test", x: run.result.epochNumbers, y: run.result.epochs.map(\.testLoss), color: color, dashed: train)
        }
        return plot.render()
    }

    /// Originals in the first row, each model's reconstructions below.
    static func reconstructions(_ models: [(label: String, model: any Module)], data: ImageDataset,
                                indices: [Int], title: String) -> RGBImage {
        let (h, w) = (data.height, data.width)
        let originals = Inference.images(data, indices)
        var rows = [ImageGrid.Row(label: "original", tiles: originals.map { ImageGrid.Tile(pixels: $0, width: w, height: h) })]
        let input = Inference.batch(data, indices)
        for (label, model) in models {
            let output = Inference.rows(model, input)
            rows.append(ImageGrid.Row(label: label, tiles: output.map { ImageGrid.Tile(pixels: $0, width: w, height: h) }))
        }
        return ImageGrid(title: title, rows: rows, scale: 2).render()
    }

    /// The first test image of each class up to `count` images, for varied grids.
    static func sampleIndices(_ data: ImageDataset, count: Int = 10) -> [Int] {
        var seen = Set<Int32>(), indices: [Int] = []
        for i in 0..<data.count where !seen.contains(data.label(at: i)) {
            seen.insert(data.label(at: i))
            indices.append(i)
            if indices.count == count { break }
        }
        var i = 0
        while indices.count < min(count, data.count) {
            if !indices.contains(i) { indices.append(i) }
            i += 1
        }
        return indices.sorted { data.label(at: $0) < data.label(at: $1) }
    }
}

/// "a (x) > b (y) > ..." for an ordering sentence.
func chain(_ items: [(String, Double)], _ separator: String = " > ", digits: Int = 4) -> String {
    items.map { "\($0.0) (\(fixed($0.1, digits)))" }.joined(separator: separator)
}
