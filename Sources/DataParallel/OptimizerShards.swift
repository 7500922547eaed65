/// How a sharded optimizer (ZeRO stage 1) splits the flat parameter buffer
/// between the ranks: rank r updates, and holds optimizer state for, the
/// contiguous run `runs[r]` only.
///
/// The runs are as equal as a 64-byte alignment allows (each starts on a
/// multiple of 16 floats, so every rank's update loop starts on a cache
/// line), and cover the buffer in rank order.
public struct OptimizerShards: Sendable, Equatable {
    /// Element ranges of the flat buffer, one per rank, in rank order.
    public let runs: [Range<Int>]

    /// `count` elements split between `worldSize` ranks.
    public init(count: Int, worldSize: Int) {
        precondition(worldSize >= 1 && count >= 0, "\(count) elements over \(worldSize) ranks")
        let bounds = (0...worldSize).map { r in r == worldSize ? count : (r * count / worldSize) / 16 * 16 }
        runs = (0..<worldSize).map { bounds[$0]..<max(bounds[$0], bounds[$0 + 1]) }
    }

    public var worldSize: Int { runs.count }
}
