/// A canvas of width x height RGB pixels, row-major, top row first, with the
/// drawing primitives the plots need (rectangles, lines, grayscale tiles).
/// Drawing outside the canvas is clipped.
public struct RGBImage: Sendable {
    public let width: Int
    public let height: Int
    /// 3 bytes (R, G, B) per pixel, `width * height * 3` in all.
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: Color = .white) {
        precondition(width > 0 && height > 0, "Image size must be positive, got \(width)x\(height)")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, color: background)
    }

    /// The colour at (x, y).
    public func color(x: Int, y: Int) -> Color {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "Pixel (\(x), \(y)) is outside \(width)x\(height)")
        let i = (y * width + x) * 3
        return Color(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Sets one pixel; ignored outside the canvas.
    public mutating func set(x: Int, y: Int, _ color: Color) {
        guard x >= 0 && x < width && y >= 0 && y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = color.red
        pixels[i + 1] = color.green
        pixels[i + 2] = color.blue
    }

    /// Fills the rectangle with top-left corner (x, y).
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: Color) {
        for row in max(y, 0)..<max(min(y + h, height), max(y, 0)) {
            for column in max(x, 0)..<max(min(x + w, width), max(x, 0)) {
                set(x: column, y: row, color)
            }
        }
    }

    /// The outline of a rectangle, one pixel wide.
    public mutating func stroke(x: Int, y: Int, width w: Int, height h: Int, color: Color) {
        fill(x: x, y: y, width: w, height: 1, color: color)
        fill(x: x, y: y + h - 1, width: w, height: 1, color: color)
        fill(x: x, y: y, width: 1, height: h, color: color)
        fill(x: x + w - 1, y: y, width: 1, height: h, color: color)
    }

    /// A straight line from (x0, y0) to (x1, y1) (Bresenham), `thickness`
    /// pixels wide; `dash` > 0 draws dashes of that many pixels.
    public mutating func line(from x0: Int, _ y0: Int, to x1: Int, _ y1: Int, color: Color,
                              thickness: Int = 1, dash: Int = 0) {
        var (x, y) = (x0, y0)
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var error = dx + dy
        var n = 0
        let low = -(thickness - 1) / 2
        while true {
            if dash == 0 || (n / dash) % 2 == 0 {
                fill(x: x + low, y: y + low, width: thickness, height: thickness, color: color)
            }
            n += 1
            if x == x1 && y == y1 { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x += sx }
            if e2 <= dx { error += dx; y += sy }
        }
    }

    /// Draws a grayscale image (`gray` row-major, `tileWidth` x `tileHeight`,
    /// values in [0, 1], 1 white) at (x, y), each pixel as a `scale` x
    /// `scale` square.
    public mutating func drawGray(_ gray: [Float], tileWidth: Int, tileHeight: Int, x: Int, y: Int, scale: Int = 1) {
        precondition(gray.count == tileWidth * tileHeight,
                     "\(gray.count) values do not make a \(tileWidth)x\(tileHeight) tile")
        for row in 0..<tileHeight {
            for column in 0..<tileWidth {
                let v = min(max(gray[row * tileWidth + column], 0), 1)
                fill(x: x + column * scale, y: y + row * scale, width: scale, height: scale,
                     color: Color(gray: UInt8((v * 255).rounded())))
            }
        }
    }
}
