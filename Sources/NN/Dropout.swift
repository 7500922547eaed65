import TensorCore

/// Zeroes each element with probability `p` in training mode and scales the
/// survivors by 1 / (1 - p); the identity in evaluation mode (PyTorch's
/// nn.Dropout).
///
/// The masks are counter-based, not drawn from a stateful generator: element
/// j of row r in the k-th dropout call of a forward pass is dropped when
///
///     CounterRandom(seed, epoch, sampleIndices[r], k).uniform(j) < p
///
/// with the keys from the pass's `ForwardContext` (see there for the defaults
/// without one). A sample thus gets the same mask in a batch of 1 or of 256,
/// on any rank and after a resume, and no layer needs to know its name.
public final class Dropout: Module, ModeDependent {
    /// The probability of zeroing an element.
    public let p: Float
    public var isTraining = true

    public init(_ p: Float = 0.5) {
        ensure(p >= 0 && p < 1, "Dropout probability must be in [0, 1), got \(p)")
        self.p = p
    }

    public func forward(_ input: Tensor) -> Tensor {
        guard isTraining else { return input }
        ensure(input.rank >= 1, "Dropout needs a batch dimension, got shape \(input.shape)")
        let rows = input.shape[0]
        let context = ForwardContext.current
        // Counted even when p is 0, so the indices of later layers stay put.
        let layer = context?.nextRandomLayer() ?? ForwardContext.nextContextFreeLayer()
        if p == 0 { return input }
        let seed = context?.seed ?? 0
        let epoch = UInt64(context?.epoch ?? 0)
        let samples = context?.sampleIndices ?? Array(0..<rows)
        ensure(samples.count == rows,
                     "Dropout: the forward context has \(samples.count) sample indices for a batch of \(rows)")
        let streams = samples.map { CounterRandom(seed, epoch, UInt64($0), UInt64(layer)) }
        return Tensor.dropout(input, probability: p, rowStreams: streams)
    }

    public var configurationDescription: String { "p=\(p)" }
}
