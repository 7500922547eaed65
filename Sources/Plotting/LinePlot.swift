import Foundation

/// A line chart: named series in colours, linear or logarithmic y-axis with
/// ticks and grid lines, axis labels, a title and a legend.
public struct LinePlot: Sendable {
    /// How the y-axis maps values.
    public enum Scale: Sendable {
        case linear, log
        /// Logarithmic when every value is positive and they span a factor of 10 or more.
        case automatic
    }

    public struct Series: Sendable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var color: Color
        public var dashed: Bool
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var yScale: Scale
    public var width: Int
    public var height: Int
    public private(set) var series: [Series] = []

    public init(title: String, xLabel: String, yLabel: String, yScale: Scale = .automatic,
                width: Int = 800, height: Int = 500) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.yScale = yScale
        self.width = width
        self.height = height
    }

    /// Adds a series; `color` defaults to the next palette colour.
    public mutating func add(_ name: String, x: [Double], y: [Double], color: Color? = nil, dashed: Bool = false) {
        precondition(x.count == y.count, "Series '\(name)' has \(x.count) x values and \(y.count) y values")
        series.append(Series(name: name, x: x, y: y, color: color ?? Color.series(series.count), dashed: dashed))
    }

    /// Whether the y-axis is drawn logarithmic.
    public var usesLogScale: Bool {
        let values = series.flatMap(\.y).filter(\.isFinite)
        switch yScale {
        case .linear: return false
        case .log: return values.contains { $0 > 0 }
        case .automatic:
            guard let low = values.min(), let high = values.max(), low > 0 else { return false }
            return high / low >= 10
        }
    }

    /// Draws the chart.
    public func render() -> RGBImage {
        var image = RGBImage(width: width, height: height)
        let log = usesLogScale
        let points = series.flatMap { s in zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite && (!log || $0.1 > 0) } }
        let xs = points.map(\.0), ys = points.map(\.1)
        var (xLow, xHigh) = (xs.min() ?? 0, xs.max() ?? 1)
        if xHigh <= xLow { (xLow, xHigh) = (xLow - 1, xHigh + 1) }
        var (yLow, yHigh) = (ys.min() ?? 0, ys.max() ?? 1)
        if log {
            (yLow, yHigh) = (yLow / 1.15, yHigh * 1.15)
            if yHigh / yLow < 3 { (yLow, yHigh) = (yLow / 1.4, yHigh * 1.4) }
        } else {
            if yHigh <= yLow { (yLow, yHigh) = (yLow - 1, yHigh + 1) }
            let pad = (yHigh - yLow) * 0.06
            (yLow, yHigh) = (yLow - pad, yHigh + pad)
        }
        let yTicks = log ? Ticks.logarithmic(low: yLow, high: yHigh) : Ticks.linear(low: yLow, high: yHigh)
        var xTicks = Ticks.linear(low: xLow, high: xHigh, target: 8)
        if xs.allSatisfy({ $0 == $0.rounded() }) { xTicks = xTicks.filter { $0 == $0.rounded() } }
        let yLabels = yTicks.map(Ticks.label)
        let scale = 2
        let left = (yLabels.map { BitmapFont.width(of: $0, scale: scale) }.max() ?? 0) + 44
        let legendWidth = (series.map { BitmapFont.width(of: $0.name, scale: scale) }.max() ?? 0) + 62
        // Many series: the legend goes right of the plot, where it hides no curve.
        let legendOutside = series.count > 4
        let (top, right, bottom) = (48, legendOutside ? legendWidth + 34 : 24, 64)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func px(_ x: Double) -> Int { left + Int(((x - xLow) / (xHigh - xLow) * Double(plotWidth)).rounded()) }
        func py(_ y: Double) -> Int {
            let t = log ? (Foundation.log(y) - Foundation.log(yLow)) / (Foundation.log(yHigh) - Foundation.log(yLow))
                        : (y - yLow) / (yHigh - yLow)
            return top + plotHeight - Int((t * Double(plotHeight)).rounded())
        }

        // Grid, ticks and their labels.
        for (tick, label) in zip(yTicks, yLabels) {
            let y = py(tick)
            image.line(from: left, y, to: left + plotWidth - 1, y, color: .gridGray)
            image.line(from: left - 5, y, to: left - 1, y, color: .black)
            image.text(label, x: left - 8, y: y - BitmapFont.height(scale: scale) / 2, scale: scale, color: .textGray, anchor: .right)
        }
        for tick in xTicks {
            let x = px(tick)
            image.line(from: x, top, to: x, top + plotHeight - 1, color: .gridGray)
            image.line(from: x, top + plotHeight, to: x, top + plotHeight + 4, color: .black)
            image.text(Ticks.label(tick), x: x, y: top + plotHeight + 9, scale: scale, color: .textGray, anchor: .center)
        }
        image.stroke(x: left, y: top, width: plotWidth, height: plotHeight + 1, color: .black)

        // Titles.
        image.text(title, x: left + plotWidth / 2, y: 14, scale: scale, anchor: .center)
        image.text(xLabel, x: left + plotWidth / 2, y: height - 24, scale: scale, anchor: .center)
        image.text(yLabel + (log ? " (log scale)" : ""), x: 8, y: top + plotHeight / 2, scale: scale,
                   anchor: .center, vertical: true)

        // The series.
        for s in series {
            let valid = zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite && (!log || $0.1 > 0) }
            for (a, b) in zip(valid, valid.dropFirst()) {
                image.line(from: px(a.0), py(a.1), to: px(b.0), py(b.1), color: s.color, thickness: 2, dash: s.dashed ? 6 : 0)
            }
            if valid.count <= 40 {
                for p in valid { image.fill(x: px(p.0) - 3, y: py(p.1) - 3, width: 7, height: 7, color: s.color) }
            }
        }

        // Legend, top right inside the plot.
        guard !series.isEmpty else { return image }
        let rowHeight = 22
        let legendHeight = series.count * rowHeight + 10
        // The corner whose box covers the fewest data points.
        let corners = [(left + plotWidth - legendWidth - 10, top + 10), (left + plotWidth - legendWidth - 10, top + plotHeight - legendHeight - 10),
                       (left + 10, top + 10), (left + 10, top + plotHeight - legendHeight - 10)]
        let (lx, ly) = legendOutside ? (left + plotWidth + 14, top) : corners.min { a, b in
            func covered(_ c: (Int, Int)) -> Int {
                points.filter { p in
                    let (x, y) = (px(p.0), py(p.1))
                    return x >= c.0 - 4 && x <= c.0 + legendWidth + 4 && y >= c.1 - 4 && y <= c.1 + legendHeight + 4
                }.count
            }
            return covered(a) < covered(b)
        }!
        image.fill(x: lx, y: ly, width: legendWidth, height: legendHeight, color: .white)
        image.stroke(x: lx, y: ly, width: legendWidth, height: legendHeight, color: .textGray)
        for (i, s) in series.enumerated() {
            let y = ly + 8 + i * rowHeight + 7
            image.line(from: lx + 8, y, to: lx + 40, y, color: s.color, thickness: 2, dash: s.dashed ? 6 : 0)
            image.text(s.name, x: lx + 50, y: y - 7, scale: scale)
        }
        return image
    }
}
