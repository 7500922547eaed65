import TensorCore

/// One sample of a `SimpleDataset`: its features, and its class label or
/// its float target (or neither, for an auto-encoder).
public struct Sample: Sendable {
    /// `sampleShape`'s product of values, in row-major order.
    public var features: [Float]
    /// The class, in `0..<classes`; nil without one.
    public var label: Int?
    /// `targetShape`'s product of values; nil without a float target.
    public var target: [Float]?

    public init(features: [Float], label: Int? = nil, target: [Float]? = nil) {
        self.features = features
        self.label = label
        self.target = target
    }
}

/// The simple form of `Dataset` for a data set of your own: return each
/// sample as arrays (`sample(at:)`), and the loader copies them into the
/// batch, checking their sizes. No pointers to get wrong.
///
/// `Dataset`'s `copySample(at:into:)` writes straight into the batch
/// without an allocation per sample; implement that instead where loading
/// is the bottleneck (the catalog's data sets and `--data` files do).
public protocol SimpleDataset: Dataset {
    /// Sample `index`, in `0..<count`.
    func sample(at index: Int) -> Sample
}

extension SimpleDataset {
    public var classNames: [String] { [] }

    public func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        let sample = sample(at: index)
        ensure(sample.features.count == sampleSize, "\(Self.self).sample(at: \(index)) has \(sample.features.count) features; "
               + "sampleShape \(sampleShape) holds \(sampleSize)")
        sample.features.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: $0.count) }
        guard let label = sample.label else { return -1 }
        ensure(label >= 0 && label <= Int(Int32.max), "\(Self.self).sample(at: \(index)) has label \(label); labels are 0 or more")
        return Int32(label)
    }

    public func copyTarget(at index: Int, into destination: UnsafeMutablePointer<Float>) {
        let target = sample(at: index).target ?? []
        ensure(target.count == targetSize, "\(Self.self).sample(at: \(index)) has \(target.count) target values; "
               + "targetShape \(targetShape) holds \(targetSize)")
        target.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: $0.count) }
    }
}
