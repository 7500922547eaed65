import TensorCore

/// Several data sets of the same shapes, one after the other, as PyTorch's
/// `ConcatDataset`: index i of the whole is index i - start of the part it
/// falls in. Shards of one data set in several files train as one.
public struct ConcatenatedDataset: Dataset {
    public let parts: [any Dataset]
    /// The index of each part's first sample in the whole, and the count after the last.
    private let starts: [Int]

    /// The parts in order; they share `sampleShape` and `targetShape`.
    public init(_ parts: [any Dataset]) {
        ensure(!parts.isEmpty, "ConcatenatedDataset needs at least one part")
        for part in parts.dropFirst() {
            ensure(part.sampleShape == parts[0].sampleShape && part.targetShape == parts[0].targetShape,
                   "ConcatenatedDataset: a part of samples \(part.sampleShape) (targets \(part.targetShape)) after one of "
                   + "\(parts[0].sampleShape) (targets \(parts[0].targetShape))")
        }
        self.parts = parts
        starts = parts.reduce(into: [0]) { $0.append($0.last! + $1.count) }
    }

    public var count: Int { starts.last! }
    public var sampleShape: [Int] { parts[0].sampleShape }
    public var targetShape: [Int] { parts[0].targetShape }
    public var classNames: [String] { parts[0].classNames }
    /// The first part's failed read, if any.
    public var readFailure: DataError? { parts.lazy.compactMap(\.readFailure).first }
    /// The parts' keys joined, when every part has one.
    public var contentKey: String? {
        let keys = parts.map(\.contentKey)
        return keys.contains(nil) ? nil : keys.map { $0! }.joined(separator: "||")
    }

    /// The part holding `index`, and the index within it.
    private func locate(_ index: Int) -> (part: Int, index: Int) {
        ensure(index >= 0 && index < count, "index \(index) outside the \(count) samples of a ConcatenatedDataset")
        var low = 0, high = parts.count - 1  // the last part whose start is <= index
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= index { low = middle } else { high = middle - 1 }
        }
        return (low, index - starts[low])
    }

    public func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        let (part, local) = locate(index)
        return parts[part].copySample(at: local, into: destination)
    }

    public func copyTarget(at index: Int, into destination: UnsafeMutablePointer<Float>) {
        let (part, local) = locate(index)
        parts[part].copyTarget(at: local, into: destination)
    }
}
