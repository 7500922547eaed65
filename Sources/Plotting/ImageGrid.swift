/// Rows of grayscale images (e.g. originals above their reconstructions),
/// each row with a label on its left, optional column headers, and optional
/// caption lines under each tile.
public struct ImageGrid: Sendable {
    /// One grayscale image, values in [0, 1] (1 white), row-major.
    public struct Tile: Sendable {
        public var pixels: [Float]
        public var width: Int
        public var height: Int
        public var caption: [String]

        public init(pixels: [Float], width: Int, height: Int, caption: [String] = []) {
            precondition(pixels.count == width * height, "\(pixels.count) values do not make a \(width)x\(height) tile")
            self.pixels = pixels
            self.width = width
            self.height = height
            self.caption = caption
        }
    }

    public struct Row: Sendable {
        public var label: String
        public var tiles: [Tile]

        public init(label: String, tiles: [Tile]) {
            self.label = label
            self.tiles = tiles
        }
    }

    public var title: String
    public var rows: [Row]
    /// Headers above the columns (optional).
    public var columnHeaders: [String]
    /// Each image pixel becomes a `scale` x `scale` square.
    public var scale: Int
    /// Draw white-on-black digits as black-on-white (ink dark): easier to read on a page.
    public var invert: Bool

    public init(title: String, rows: [Row], columnHeaders: [String] = [], scale: Int = 3, invert: Bool = false) {
        self.title = title
        self.rows = rows
        self.columnHeaders = columnHeaders
        self.scale = scale
        self.invert = invert
    }

    /// Draws the grid.
    public func render() -> RGBImage {
        let text = 2, gap = 8
        let columns = max(rows.map(\.tiles.count).max() ?? 0, columnHeaders.count, 1)
        let tileWidth = rows.flatMap(\.tiles).map(\.width).max() ?? 28
        let tileHeight = rows.flatMap(\.tiles).map(\.height).max() ?? 28
        let captionLines = rows.flatMap(\.tiles).map(\.caption.count).max() ?? 0
        let captionWidth = rows.flatMap(\.tiles).flatMap(\.caption).map { BitmapFont.width(of: $0, scale: text) }.max() ?? 0
        let headerWidth = columnHeaders.map { BitmapFont.width(of: $0, scale: text) }.max() ?? 0
        let cellWidth = max(tileWidth * scale, captionWidth, headerWidth) + gap
        let cellHeight = tileHeight * scale + captionLines * (BitmapFont.lineHeight * text + 2) + gap
        let labelWidth = (rows.map { BitmapFont.width(of: $0.label, scale: text) }.max() ?? 0) + 16
        let titleHeight = title.isEmpty ? 8 : 36
        let headerHeight = columnHeaders.isEmpty ? 0 : BitmapFont.lineHeight * text + 8
        let width = labelWidth + columns * cellWidth + gap
        let height = titleHeight + headerHeight + rows.count * cellHeight + gap
        var image = RGBImage(width: width, height: height)
        image.text(title, x: width / 2, y: 10, scale: text, anchor: .center)
        for (c, header) in columnHeaders.enumerated() {
            image.text(header, x: labelWidth + c * cellWidth + cellWidth / 2, y: titleHeight, scale: text,
                       color: .textGray, anchor: .center)
        }
        for (r, row) in rows.enumerated() {
            let y = titleHeight + headerHeight + r * cellHeight
            image.text(row.label, x: labelWidth - 10, y: y + tileHeight * scale / 2 - BitmapFont.height(scale: text) / 2,
                       scale: text, anchor: .right)
            for (c, tile) in row.tiles.enumerated() {
                let x = labelWidth + c * cellWidth + (cellWidth - tile.width * scale) / 2
                let pixels = invert ? tile.pixels.map { 1 - $0 } : tile.pixels
                image.drawGray(pixels, tileWidth: tile.width, tileHeight: tile.height, x: x, y: y, scale: scale)
                image.stroke(x: x - 1, y: y - 1, width: tile.width * scale + 2, height: tile.height * scale + 2, color: .gridGray)
                for (l, line) in tile.caption.enumerated() {
                    image.text(line, x: labelWidth + c * cellWidth + cellWidth / 2,
                               y: y + tile.height * scale + 4 + l * (BitmapFont.lineHeight * text + 2),
                               scale: text, color: l == 0 ? .black : .textGray, anchor: .center)
                }
            }
        }
        return image
    }
}
