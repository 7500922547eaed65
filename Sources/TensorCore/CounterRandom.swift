/// Random numbers as a pure function of a key and a counter, with no state to
/// advance, save or restore (the idea of Philox and of JAX's PRNG keys).
///
/// A data-parallel run needs the dropout mask of a sample to be the same on
/// whichever rank processes it, in whichever micro-batch and after any resume.
/// A stateful generator (`RandomGenerator`) cannot give that: its stream
/// depends on everything drawn before. Here the mask element is
/// `uniform(key(seed, epoch, sample, layer), element)`, so nothing but those
/// numbers decides it.
///
/// The key absorbs its words one at a time through the SplitMix64 finaliser
/// (a bijection of 64-bit words with full avalanche); the counter is then
/// spaced by the golden-ratio increment and finalised again, which is exactly
/// SplitMix64's output function, a generator that passes BigCrush.
public struct CounterRandom: Sendable, Equatable {
    /// The stream's 64-bit key, derived from the words given to `init`.
    public let key: UInt64

    /// SplitMix64's increment (2^64 / golden ratio, odd).
    static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// A stream keyed by `words` (e.g. seed, epoch, sample index, layer
    /// index). Different word lists give unrelated streams; the order matters.
    public init(_ words: UInt64...) { self.init(words: words) }

    /// A stream keyed by `words` (see `init(_:)`).
    public init(words: [UInt64]) {
        var k: UInt64 = 0x243F_6A88_85A3_08D3  // pi's first fraction digits: the empty key is not 0
        for w in words { k = CounterRandom.mix(k ^ CounterRandom.mix(w &+ CounterRandom.golden)) }
        key = k
    }

    /// The SplitMix64 finaliser (Stafford's Mix13): every output bit depends
    /// on every input bit.
    @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 64 random bits for `counter`.
    @inline(__always)
    public func bits(_ counter: UInt64) -> UInt64 {
        CounterRandom.mix(key &+ (counter &+ 1) &* CounterRandom.golden)
    }

    /// Uniform in [0, 1) with 24 random bits (a Float's precision), for `counter`.
    @inline(__always)
    public func uniform(_ counter: UInt64) -> Float {
        Float(bits(counter) >> 40) * (1.0 / 16_777_216.0)
    }
}
