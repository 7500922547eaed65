import TensorCore

/// A sequence of sample indices that costs constant memory where it can: a
/// range, a keyed permutation evaluated per position, or (for what only a
/// table can say) an array.
///
/// An epoch's shuffled order used to be an array of all N indices on every
/// rank (8 bytes a sample: a billion samples, 8 GB per rank). The keyed
/// permutation below computes position p's index from (seed, epoch, p)
/// alone, so a rank asks only for the positions of its own batches.
/// Slicing keeps the base's positions, as every Swift collection does:
/// `order[10..<20]` has `startIndex` 10.
public struct SampleOrder: RandomAccessCollection, Sendable {
    /// How a shuffled order is drawn; checkpoints record it (`sample_order`)
    /// so that a run resumes in the order it started with.
    public enum Scheme: String, Sendable, Codable, CaseIterable {
        /// A keyed bijection of `0..<N` (a Feistel network with cycle
        /// walking), evaluated per position in constant memory.
        case keyedBijection = "keyed-bijection-v1"
        /// Fisher-Yates over an N-element array drawn from the generator:
        /// the order of checkpoints written before 2026-12-03 (which carry
        /// no `sample_order`), kept so that they resume exactly.
        case drawnPermutation = "drawn-permutation"
    }

    private enum Storage: Sendable {
        case range(lowerBound: Int)
        case keyed(KeyedPermutation)
        case table([Int])
    }

    private let storage: Storage
    public let startIndex: Int
    public let endIndex: Int

    private init(_ storage: Storage, _ bounds: Range<Int>) {
        self.storage = storage
        startIndex = bounds.lowerBound
        endIndex = bounds.upperBound
    }

    /// `range`'s indices in order: position p holds `range.lowerBound + p`.
    public init(_ range: Range<Int>) {
        self.init(.range(lowerBound: range.lowerBound), 0..<range.count)
    }

    /// The indices in `table`, position p holding `table[p]`.
    public init(_ table: [Int]) {
        self.init(.table(table), 0..<table.count)
    }

    /// A shuffled order of `0..<count` drawn by `scheme` from `generator`
    /// (which it advances): the same generator state gives the same order,
    /// whoever asks.
    public init(shuffling count: Int, by scheme: Scheme, using generator: inout RandomGenerator) {
        switch scheme {
        case .keyedBijection: self.init(.keyed(KeyedPermutation(count: count, using: &generator)), 0..<count)
        case .drawnPermutation: self.init(generator.permutation(count))
        }
    }

    public subscript(position: Int) -> Int {
        ensure(position >= startIndex && position < endIndex, "Position \(position) outside \(startIndex)..<\(endIndex)")
        switch storage {
        case .range(let lowerBound): return lowerBound + position
        case .keyed(let permutation): return permutation.index(at: position)
        case .table(let table): return table[position]
        }
    }

    public subscript(bounds: Range<Int>) -> SampleOrder {
        ensure(bounds.lowerBound >= startIndex && bounds.upperBound <= endIndex,
                     "Positions \(bounds) outside \(startIndex)..<\(endIndex)")
        return SampleOrder(storage, bounds)
    }
}

/// A pseudo-random bijection of `0..<count` chosen by a key: a balanced
/// Feistel network on the smallest even number of bits covering `count`,
/// with cycle walking (apply it again while the value is `count` or more).
///
/// A Feistel network is a bijection whatever its round function, so each
/// position maps to one index and no two positions share one. The bit
/// domain is less than 4 * count, so cycle walking takes fewer than four
/// rounds of the network on average. Six rounds of a 64-bit mixer make the
/// order look random to a training loop; it is not meant as cryptography.
struct KeyedPermutation: Sendable {
    let count: Int
    private let halfBits: Int
    private let keys: [UInt64]

    private static let rounds = 6

    init(count: Int, using generator: inout RandomGenerator) {
        ensure(count >= 0, "count must not be negative, got \(count)")
        self.count = count
        var bits = 2
        while bits < 62 && (1 << bits) < count { bits += 2 }
        halfBits = bits / 2
        keys = (0..<Self.rounds).map { _ in generator.next() }
    }

    /// The index at `position` (in `0..<count`).
    func index(at position: Int) -> Int {
        var value = UInt64(position)
        repeat { value = encrypt(value) } while value >= UInt64(count)
        return Int(value)
    }

    private func encrypt(_ value: UInt64) -> UInt64 {
        let mask: UInt64 = (1 << UInt64(halfBits)) - 1
        var left = value >> UInt64(halfBits), right = value & mask
        for key in keys {
            (left, right) = (right, left ^ (Self.mix(right ^ key) & mask))
        }
        return left << UInt64(halfBits) | right
    }

    /// SplitMix64's finaliser: every input bit affects every output bit.
    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
