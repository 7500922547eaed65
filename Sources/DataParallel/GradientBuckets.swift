import NN
import TensorCore

/// The flat gradient buffer cut into buckets of whole parameters, and which
/// buckets backward has finished so far in the current step.
///
/// Buckets hold parameters in reverse registration order, the order backward
/// produces their gradients, so the first bucket is final first and its
/// reduction can start while backward goes on with earlier layers. Both
/// gradient reductions (the overlapped allreduce and the deterministic tree)
/// use this one layout.
///
/// Every rank must start the same collectives in the same order, so buckets
/// become startable strictly in bucket order: a bucket that is ready early
/// waits for the ones before it.
public struct GradientBuckets: Sendable {
    /// Element ranges of the flat gradient buffer; bucket 0 holds the last parameters.
    public let ranges: [Range<Int>]
    /// The bucket of each parameter (registration index).
    public let bucketOfParameter: [Int]
    /// How many parameters each bucket holds.
    public let parametersPerBucket: [Int]
    private let parameterIndex: [ObjectIdentifier: Int]  // unchanging after init
    /// Parameters per bucket whose gradient is not final yet in this step.
    private var remaining: [Int]
    /// Buckets `0 ..< startable` are complete (all earlier ones too).
    public private(set) var startable = 0

    /// Cuts `parameters` into buckets of at most `bucketBytes` (a parameter
    /// larger than that is a bucket of its own).
    public init(parameters: ParameterSet, bucketBytes: Int) {
        let capacity = max(bucketBytes / MemoryLayout<Float>.stride, 1)
        var ranges: [Range<Int>] = []
        var bucketOfParameter = [Int](repeating: 0, count: parameters.tensors.count)
        var counts: [Int] = []
        var current: Range<Int>? = nil
        var count = 0
        for index in parameters.tensors.indices.reversed() {
            let range = parameters.range(of: index)
            if let open = current, open.count + range.count > capacity {
                ranges.append(open)
                counts.append(count)
                current = nil
                count = 0
            }
            current = current.map { range.lowerBound..<$0.upperBound } ?? range
            count += 1
            bucketOfParameter[index] = ranges.count
        }
        if let open = current {
            ranges.append(open)
            counts.append(count)
        }
        self.ranges = ranges
        self.bucketOfParameter = bucketOfParameter
        parametersPerBucket = counts
        parameterIndex = Dictionary(uniqueKeysWithValues: parameters.tensors.enumerated().map {
            (ObjectIdentifier($0.element), $0.offset)
        })
        remaining = counts
    }

    public var count: Int { ranges.count }

    /// Starts a new step: no gradient is final.
    public mutating func reset() {
        remaining = parametersPerBucket
        startable = 0
    }

    /// Records that `tensor`'s gradient is final; returns the buckets that
    /// became startable (in order), none if `tensor` is not a parameter.
    public mutating func markReady(_ tensor: Tensor) -> Range<Int> {
        let before = startable
        guard let index = parameterIndex[ObjectIdentifier(tensor)] else { return before..<before }
        remaining[bucketOfParameter[index]] -= 1
        while startable < ranges.count && remaining[startable] == 0 { startable += 1 }
        return before..<startable
    }

    /// Declares every bucket complete (parameters backward never reached
    /// keep a zero gradient); returns the buckets not started before.
    public mutating func markAllReady() -> Range<Int> {
        let before = startable
        startable = ranges.count
        return before..<startable
    }
}
