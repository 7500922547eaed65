import TensorCore

/// An in-memory data set of arrays, PyTorch's `TensorDataset`: features
/// `[count] + sampleShape` (bytes scaled to [0, 1], or floats as they are),
/// and per sample a class label, a float target of `targetShape`, or neither.
public struct TensorDataset: Dataset {
    /// The features, in one of two storages: bytes stay bytes (4x smaller).
    public enum Features: Sendable {
        /// Bytes, read as value / 255 (torchvision's ToTensor).
        case bytes([UInt8])
        case floats([Float])

        /// Whether the samples are bytes (scaled) rather than floats.
        public var isBytes: Bool {
            if case .bytes = self { return true }
            return false
        }
    }

    public let count: Int
    public let sampleShape: [Int]
    public let targetShape: [Int]
    public let classNames: [String]
    private let features: Features
    private let labels: [Int32]?
    private let targets: [Float]?
    private let sampleSize: Int
    private let targetValues: Int

    /// - Parameters:
    ///   - labels: one class label per sample, or nil.
    ///   - targets: `count * targetShape.product` floats, or nil (then
    ///     `targetShape` must be `[]`).
    public init(features: Features, sampleShape: [Int], labels: [Int32]? = nil, targets: [Float]? = nil,
                targetShape: [Int] = [], classNames: [String] = []) {
        let size = sampleShape.reduce(1, *)
        let stored: Int
        switch features {
        case .bytes(let b): stored = b.count
        case .floats(let f): stored = f.count
        }
        ensure(size > 0 && stored % size == 0, "\(stored) feature values do not make samples of \(sampleShape)")
        let count = stored / size
        ensure(labels.map { $0.count == count } ?? true, "\(labels!.count) labels for \(count) samples")
        ensure(targets == nil ? targetShape.isEmpty : !targetShape.isEmpty
                     && targets!.count == count * targetShape.reduce(1, *),
                     "targets of shape \(targetShape) do not fit \(count) samples")
        self.count = count
        self.sampleShape = sampleShape
        self.targetShape = targetShape
        self.classNames = classNames
        self.features = features
        self.labels = labels
        self.targets = targets
        sampleSize = size
        targetValues = targetShape.reduce(1, *)
    }

    public func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        let start = index * sampleSize
        switch features {
        case .bytes(let bytes):
            bytes.withUnsafeBufferPointer { b in
                for i in 0..<sampleSize { destination[i] = Float(b[start + i]) * (1 / 255) }
            }
        case .floats(let floats):
            floats.withUnsafeBufferPointer { f in destination.update(from: f.baseAddress! + start, count: sampleSize) }
        }
        return labels?[index] ?? -1
    }

    public func copyTarget(at index: Int, into destination: UnsafeMutablePointer<Float>) {
        guard let targets else { return }
        targets.withUnsafeBufferPointer { t in destination.update(from: t.baseAddress! + index * targetValues, count: targetValues) }
    }
}
