import TensorCore

/// The samples of `base` at `indices`, as PyTorch's `torch.utils.data.Subset`:
/// a view, nothing is copied.
public struct Subset: Dataset {
    public let base: any Dataset
    /// The positions in `base`, in the subset's order (a range or a keyed
    /// order costs no memory per sample).
    public let indices: SampleOrder

    /// The samples at `indices` (each within the base data set).
    public init(_ base: any Dataset, indices: [Int]) {
        ensure(indices.allSatisfy { $0 >= 0 && $0 < base.count },
                     "Subset indices outside the data set's 0..<\(base.count)")
        self.base = base
        self.indices = SampleOrder(indices)
    }

    /// The samples at `range`.
    public init(_ base: any Dataset, _ range: Range<Int>) {
        ensure(range.lowerBound >= 0 && range.upperBound <= base.count,
                     "Subset \(range) outside the data set's 0..<\(base.count)")
        self.base = base
        indices = SampleOrder(range)
    }

    /// The samples at the positions of `order`, which must be indices of
    /// `base` (an order of `0..<base.count` or a slice of one).
    public init(_ base: any Dataset, order: SampleOrder) {
        self.base = base
        indices = order
    }

    public var count: Int { indices.count }
    public var sampleShape: [Int] { base.sampleShape }
    public var classNames: [String] { base.classNames }
    public var targetShape: [Int] { base.targetShape }
    public var readFailure: DataError? { base.readFailure }

    public func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        base.copySample(at: indices[indices.startIndex + index], into: destination)
    }

    public func copyTarget(at index: Int, into destination: UnsafeMutablePointer<Float>) {
        base.copyTarget(at: indices[indices.startIndex + index], into: destination)
    }
}
