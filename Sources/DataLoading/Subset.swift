/// The samples of `base` at `range`, as PyTorch's `torch.utils.data.Subset`:
/// a view, nothing is copied.
public struct Subset: Dataset {
    public let base: any Dataset
    public let range: Range<Int>

    public init(_ base: any Dataset, _ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= base.count,
                     "Subset \(range) outside the data set's 0..<\(base.count)")
        self.base = base
        self.range = range
    }

    public var count: Int { range.count }
    public var sampleShape: [Int] { base.sampleShape }
    public var classNames: [String] { base.classNames }
    public var targetShape: [Int] { base.targetShape }

    public func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        base.copySample(at: range.lowerBound + index, into: destination)
    }

    public func copyTarget(at index: Int, into destination: UnsafeMutablePointer<Float>) {
        base.copyTarget(at: range.lowerBound + index, into: destination)
    }
}
