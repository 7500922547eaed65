import Foundation

/// Where an axis puts its tick marks and how it labels them.
public enum Ticks {
    /// About `target` evenly spaced "nice" values (steps of 1, 2 or 5 times
    /// a power of ten) covering [low, high].
    public static func linear(low: Double, high: Double, target: Int = 6) -> [Double] {
        guard high > low, low.isFinite, high.isFinite else { return [low] }
        let rough = (high - low) / Double(max(target - 1, 1))
        let power = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
        var ticks: [Double] = []
        var value = ceil(low / step - 1e-9) * step
        while value <= high + step * 1e-9 {
            ticks.append(abs(value) < step * 1e-9 ? 0 : value)
            value += step
        }
        return ticks
    }

    /// Values m x 10^k inside [low, high] (both positive): powers of ten
    /// alone when the range spans several decades, with 2 and 5 (or every
    /// digit) added when that gives too few.
    public static func logarithmic(low: Double, high: Double) -> [Double] {
        guard low > 0, high > low else { return [max(low, Double.leastNormalMagnitude)] }
        for mantissas in [[1.0], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]] {
            var ticks: [Double] = []
            for k in Int(floor(log10(low)))...Int(ceil(log10(high))) {
                for m in mantissas {
                    let v = m * pow(10, Double(k))
                    if v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9) { ticks.append(v) }
                }
            }
            if ticks.count >= 3 { return ticks }
        }
        return linear(low: low, high: high, target: 4).filter { $0 > 0 }
    }

    /// A short label: up to four significant digits, exponent form for very
    /// large or small magnitudes.
    public static func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 {
            return String(format: "%.0e", value).replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e")
        }
        var text = String(format: "%.4g", value)
        if text.contains("e") { text = String(format: "%.4f", value) }
        return text
    }
}
