/// An opaque 8-bit sRGB colour.
public struct Color: Sendable, Equatable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A gray level, 0 black to 255 white.
    public init(gray: UInt8) { self.init(gray, gray, gray) }

    public static let black = Color(0, 0, 0)
    public static let white = Color(255, 255, 255)
    public static let gridGray = Color(225, 225, 225)
    public static let textGray = Color(70, 70, 70)

    /// Colours that stay apart for up to ten series (matplotlib's "tab10").
    public static let palette: [Color] = [
        Color(31, 119, 180), Color(255, 127, 14), Color(44, 160, 44), Color(214, 39, 40),
        Color(148, 103, 189), Color(140, 86, 75), Color(227, 119, 194), Color(127, 127, 127),
        Color(188, 189, 34), Color(23, 190, 207),
    ]

    /// The palette colour for series `index` (wrapping around).
    public static func series(_ index: Int) -> Color { palette[index % palette.count] }

    /// Blends from `self` (t = 0) to `other` (t = 1).
    public func mixed(with other: Color, _ t: Double) -> Color {
        let t = min(max(t, 0), 1)
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * (1 - t) + Double(b) * t).rounded()) }
        return Color(mix(red, other.red), mix(green, other.green), mix(blue, other.blue))
    }
}
