import DataLoading
import TensorCore

/// A 1x28x28 image data set seen as 3x32x32 CIFAR-shaped images: each image
/// zero-padded by 2 on every side and its one channel repeated three times
/// (torchvision's `Pad(2)` then `Grayscale(3)`), so CIFAR-shaped models train
/// on real data where CIFAR-10 itself is not installed.
public struct CIFARShaped: Dataset {
    public let base: any Dataset

    public init(_ base: any Dataset) {
        ensure(base.sampleShape == [1, 28, 28], "CIFARShaped needs 1x28x28 images, got \(base.sampleShape)")
        self.base = base
    }

    public var count: Int { base.count }
    /// What a sample is: three channels of 32x32.
    public static let shape = [3, 32, 32]

    public var sampleShape: [Int] { Self.shape }
    public var classNames: [String] { base.classNames }
    public var readFailure: DataError? { base.readFailure }

    public func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        var image = [Float](repeating: 0, count: 28 * 28)
        let label = image.withUnsafeMutableBufferPointer { base.copySample(at: index, into: $0.baseAddress!) }
        destination.initialize(repeating: 0, count: 32 * 32)
        for row in 0..<28 {
            for column in 0..<28 { destination[(row + 2) * 32 + column + 2] = image[row * 28 + column] }
        }
        (destination + 32 * 32).update(from: destination, count: 32 * 32)
        (destination + 2 * 32 * 32).update(from: destination, count: 32 * 32)
        return label
    }
}
