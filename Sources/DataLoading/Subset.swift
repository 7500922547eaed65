/// The samples of `base` at `indices`, as PyTorch's `torch.utils.data.Subset`:
/// a view, nothing is copied.
public struct Subset: Dataset {
    public let base: any Dataset
    /// The positions in `base`, in the subset's order.
    public let indices: [Int]

    /// The samples at `indices` (each within the base data set).
    public init(_ base: any Dataset, indices: [Int]) {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < base.count },
                     "Subset indices outside the data set's 0..<\(base.count)")
        self.base = base
        self.indices = indices
    }

    /// The samples at `range`.
    public init(_ base: any Dataset, _ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= base.count,
                     "Subset \(range) outside the data set's 0..<\(base.count)")
        self.init(base, indices: Array(range))
    }

    public var count: Int { indices.count }
    public var sampleShape: [Int] { base.sampleShape }
    public var classNames: [String] { base.classNames }
    public var targetShape: [Int] { base.targetShape }
    public var readFailure: DataError? { base.readFailure }

    public func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        base.copySample(at: indices[index], into: destination)
    }

    public func copyTarget(at index: Int, into destination: UnsafeMutablePointer<Float>) {
        base.copyTarget(at: indices[index], into: destination)
    }
}
