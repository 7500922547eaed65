/// The median and the range of repeated measurements: what `trainer bench
/// --repeat` and `--scaling` report, since one run on a shared machine says
/// little.
struct Spread {
    var median: Double
    var low: Double
    var high: Double

    /// Nil for no values.
    init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted(), n = sorted.count
        median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        (low, high) = (sorted[0], sorted[n - 1])
    }
}
