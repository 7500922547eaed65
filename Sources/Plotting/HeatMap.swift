/// A matrix drawn as coloured cells with the value printed in each, labelled
/// rows and columns: a confusion matrix (rows = true class, columns =
/// predicted class).
public struct HeatMap: Sendable {
    public var title: String
    /// values[row][column].
    public var values: [[Double]]
    public var rowLabels: [String]
    public var columnLabels: [String]
    public var rowTitle: String
    public var columnTitle: String
    public var cellSize: Int

    public init(title: String, values: [[Double]], rowLabels: [String], columnLabels: [String],
                rowTitle: String, columnTitle: String, cellSize: Int = 46) {
        precondition(values.count == rowLabels.count, "\(values.count) rows but \(rowLabels.count) row labels")
        precondition(values.allSatisfy { $0.count == columnLabels.count }, "Every row needs \(columnLabels.count) values")
        self.title = title
        self.values = values
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.rowTitle = rowTitle
        self.columnTitle = columnTitle
        self.cellSize = cellSize
    }

    /// Draws the matrix; each cell's colour goes from white (0) to dark blue
    /// (the largest value in its row), so each row reads as proportions.
    public func render() -> RGBImage {
        let text = 2
        let labelWidth = (rowLabels.map { BitmapFont.width(of: $0, scale: text) }.max() ?? 0) + 14
        let columnLabelHeight = (columnLabels.map { BitmapFont.width(of: $0, scale: text) }.max() ?? 0) + 14
        let left = 30 + labelWidth, top = 40
        let gridWidth = columnLabels.count * cellSize, gridHeight = rowLabels.count * cellSize
        let width = left + gridWidth + 20
        let height = top + gridHeight + columnLabelHeight + 30
        var image = RGBImage(width: width, height: height)
        image.text(title, x: width / 2, y: 12, scale: text, anchor: .center)
        let dark = Color(8, 48, 107), light = Color.white
        for (r, row) in values.enumerated() {
            let rowMax = max(row.max() ?? 1, 1e-12)
            for (c, value) in row.enumerated() {
                let x = left + c * cellSize, y = top + r * cellSize
                let t = value / rowMax
                image.fill(x: x, y: y, width: cellSize, height: cellSize, color: light.mixed(with: dark, t))
                let label = value == value.rounded() ? String(Int(value)) : Ticks.label(value)
                let scale = BitmapFont.width(of: label, scale: 2) <= cellSize - 4 ? 2 : 1
                image.text(label, x: x + cellSize / 2, y: y + (cellSize - BitmapFont.height(scale: scale)) / 2, scale: scale,
                           color: t > 0.5 ? .white : .black, anchor: .center)
            }
            image.text(rowLabels[r], x: left - 8, y: top + r * cellSize + (cellSize - BitmapFont.height(scale: text)) / 2,
                       scale: text, anchor: .right)
        }
        image.stroke(x: left, y: top, width: gridWidth, height: gridHeight, color: .textGray)
        for (c, label) in columnLabels.enumerated() {
            // Vertical labels under the columns, reading upwards, ending just below the grid.
            let x = left + c * cellSize + (cellSize - BitmapFont.height(scale: text)) / 2
            image.text(label, x: x, y: top + gridHeight + 8, scale: text, anchor: .right, vertical: true)
        }
        image.text(rowTitle, x: 8, y: top + gridHeight / 2, scale: text, color: .textGray, anchor: .center, vertical: true)
        image.text(columnTitle, x: left + gridWidth / 2, y: height - 22, scale: text, color: .textGray, anchor: .center)
        return image
    }
}
