import Plotting
import Testing

/// Pixels of `image` that are not white.
func inked(_ image: RGBImage) -> Int {
    (0..<image.height).reduce(0) { sum, y in sum + (0..<image.width).filter { image.color(x: $0, y: y) != .white }.count }
}

@Suite struct FiguresTests {
    @Test func textDrawsGlyphsOfTheExpectedSize() {
        var image = RGBImage(width: 60, height: 20)
        image.text("Hi 1", x: 1, y: 1, scale: 2)
        #expect(inked(image) > 20)
        #expect(BitmapFont.width(of: "Hi 1", scale: 2) == (4 * 6 - 1) * 2)
        // Nothing below the glyphs' 7 x 2 rows.
        #expect((0..<60).allSatisfy { image.color(x: $0, y: 16) == .white })
        var vertical = RGBImage(width: 20, height: 60)
        vertical.text("Hi", x: 2, y: 30, scale: 2, anchor: .center, vertical: true)
        #expect(inked(vertical) > 10)
    }

    @Test func ticksAreNiceAndLabelled() {
        let linear = Ticks.linear(low: 0, high: 1)
        #expect(linear.count == 6 && linear.first == 0 && abs(linear[5] - 1) < 1e-12)
        #expect(Ticks.logarithmic(low: 0.001, high: 10) == [0.001, 0.01, 0.1, 1, 10])
        #expect(Ticks.logarithmic(low: 0.08, high: 0.3).count >= 3)
        #expect(Ticks.label(0.25) == "0.25")
        #expect(Ticks.label(1e-6) == "1e-6")
    }

    @Test func linePlotHasTheRequestedSizeAndDrawsSeries() {
        var plot = LinePlot(title: "loss", xLabel: "epoch", yLabel: "loss", width: 400, height: 300)
        plot.add("a", x: [1, 2, 3], y: [1, 0.1, 0.01])
        plot.add("b", x: [1, 2, 3], y: [0.5, 0.4, 0.3], dashed: true)
        #expect(plot.usesLogScale)
        let image = plot.render()
        #expect(image.width == 400 && image.height == 300)
        let blue = Color.series(0)
        #expect((0..<300).contains { y in (0..<400).contains { image.color(x: $0, y: y) == blue } })
    }

    @Test func gridAndHeatMapSizeFollowTheirContents() {
        let tile = ImageGrid.Tile(pixels: [Float](repeating: 0.5, count: 4 * 3), width: 4, height: 3, caption: ["x"])
        let grid = ImageGrid(title: "g", rows: [ImageGrid.Row(label: "row", tiles: [tile, tile, tile])], scale: 5)
        let image = grid.render()
        #expect(image.width > 3 * 4 * 5 && image.height > 3 * 5)
        #expect((0..<image.height).contains { y in (0..<image.width).contains { image.color(x: $0, y: y) == Color(gray: 128) } })
        let map = HeatMap(title: "m", values: [[3, 1], [0, 4]], rowLabels: ["a", "b"], columnLabels: ["a", "b"],
                          rowTitle: "true", columnTitle: "predicted").render()
        #expect(map.width > 2 * 46 && map.height > 2 * 46)
    }
}
