import TensorCore

/// An immutable in-memory image data set: `count` images of
/// channels x height x width unsigned bytes, plus one label per image.
///
/// Pixels stay as bytes (4x smaller than Floats; 47 MB for Fashion-MNIST) and
/// are converted when a sample is copied out, through a 256-entry table per
/// channel that already folds in the scaling to [0, 1] and the optional
/// normalisation `(x - mean[c]) / std[c]` (torchvision's `ToTensor` followed by
/// `Normalize`). A table lookup per pixel is cheaper than the arithmetic and
/// costs nothing extra when normalising.
///
/// The pixels are in memory, or in an `ImageCacheFile` read image by image
/// when a batch asks for them (how the catalog's data sets are read, so
/// that a rank's memory does not hold them); the two give bitwise the same
/// samples. `subset(_:)` and `normalized(mean:std:)` share the pixel
/// storage rather than copying it.
public struct ImageDataset: Dataset {
    public let channels: Int
    public let height: Int
    public let width: Int
    public let count: Int
    public let classNames: [String]
    /// Per-channel mean subtracted after scaling to [0, 1]; zeros if none.
    public let mean: [Float]
    /// Per-channel standard deviation divided by; ones if none.
    public let std: [Float]

    /// All pixels of the original data set, N x C x H x W; this view starts at
    /// image `firstImage`. Shared between subsets.
    private let pixelStorage: PixelStorage
    private let labelStorage: [Int32]
    private let firstImage: Int
    /// `lookup[c * 256 + v]` is the Float for byte value v in channel c.
    private let lookup: [Float]

    public var sampleShape: [Int] { [channels, height, width] }

    /// A data set over `pixels`, laid out N x C x H x W, and one label per image.
    /// - Parameters:
    ///   - labels: one per image; use -1 for unlabelled images.
    ///   - mean, std: per-channel normalisation (one value per channel, or
    ///     nil for none), applied after scaling bytes to [0, 1].
    public init(pixels: [UInt8], labels: [Int32], channels: Int, height: Int, width: Int,
                classNames: [String] = [], mean: [Float]? = nil, std: [Float]? = nil) {
        ensure(channels > 0 && height > 0 && width > 0,
                     "Image size must be positive, got \(channels)x\(height)x\(width)")
        let imageSize = channels * height * width
        ensure(pixels.count == labels.count * imageSize,
                     "\(pixels.count) pixel bytes do not make \(labels.count) images of \(channels)x\(height)x\(width)")
        self.init(pixelStorage: .memory(pixels), labelStorage: labels, firstImage: 0, count: labels.count,
                  channels: channels, height: height, width: width, classNames: classNames,
                  mean: mean ?? Array(repeating: 0, count: channels),
                  std: std ?? Array(repeating: 1, count: channels))
    }

    /// A data set over the images of `file`, read from it as batches need
    /// them; `mean` and `std` as for `init(pixels:...)`.
    public init(cacheFile file: ImageCacheFile, classNames: [String] = [], mean: [Float]? = nil, std: [Float]? = nil) {
        self.init(pixelStorage: .file(file), labelStorage: file.labels, firstImage: 0, count: file.count,
                  channels: file.channels, height: file.height, width: file.width, classNames: classNames,
                  mean: mean ?? Array(repeating: 0, count: file.channels),
                  std: std ?? Array(repeating: 1, count: file.channels))
    }

    private init(pixelStorage: PixelStorage, labelStorage: [Int32], firstImage: Int, count: Int,
                 channels: Int, height: Int, width: Int, classNames: [String], mean: [Float], std: [Float]) {
        ensure(mean.count == channels, "Need one mean per channel (\(channels)), got \(mean.count)")
        ensure(std.count == channels, "Need one std per channel (\(channels)), got \(std.count)")
        ensure(std.allSatisfy { $0 > 0 }, "Standard deviations must be positive, got \(std)")
        self.pixelStorage = pixelStorage
        self.labelStorage = labelStorage
        self.firstImage = firstImage
        self.count = count
        self.channels = channels
        self.height = height
        self.width = width
        self.classNames = classNames
        self.mean = mean
        self.std = std
        var lookup = [Float](repeating: 0, count: channels * 256)
        for c in 0..<channels {
            for v in 0..<256 {
                lookup[c * 256 + v] = (Float(v) / 255 - mean[c]) / std[c]
            }
        }
        self.lookup = lookup
    }

    /// The images `range` of this data set (indices relative to it), sharing
    /// its pixel storage: no copy.
    public func subset(_ range: Range<Int>) -> ImageDataset {
        ensure(range.lowerBound >= 0 && range.upperBound <= count,
                     "Subset \(range) is outside 0..<\(count)")
        return ImageDataset(pixelStorage: pixelStorage, labelStorage: labelStorage,
                            firstImage: firstImage + range.lowerBound, count: range.count,
                            channels: channels, height: height, width: width, classNames: classNames,
                            mean: mean, std: std)
    }

    /// The same images normalised per channel as `(x - mean[c]) / std[c]`
    /// after scaling to [0, 1], like torchvision's `Normalize`; replaces any
    /// earlier normalisation. Shares the pixel storage.
    public func normalized(mean: [Float], std: [Float]) -> ImageDataset {
        ImageDataset(pixelStorage: pixelStorage, labelStorage: labelStorage,
                     firstImage: firstImage, count: count,
                     channels: channels, height: height, width: width, classNames: classNames,
                     mean: mean, std: std)
    }

    /// The label of image `index`.
    public func label(at index: Int) -> Int32 {
        ensure(index >= 0 && index < count, "Index \(index) is outside 0..<\(count)")
        return labelStorage[firstImage + index]
    }

    /// All labels of this data set, in order (a copy, indexed from 0).
    public var labels: [Int32] {
        Array(labelStorage[firstImage..<(firstImage + count)])
    }

    /// The raw bytes of image `index` (C x H x W), e.g. to write it out as a
    /// picture (zeros where a cache file could not be read: `readFailure`).
    public func pixels(at index: Int) -> [UInt8] {
        ensure(index >= 0 && index < count, "Index \(index) is outside 0..<\(count)")
        let imageSize = channels * height * width
        switch pixelStorage {
        case .memory(let pixels):
            let start = (firstImage + index) * imageSize
            return Array(pixels[start..<(start + imageSize)])
        case .file(let file):
            return [UInt8](unsafeUninitializedCapacity: imageSize) { buffer, initialized in
                _ = file.readImage(firstImage + index, into: buffer)
                initialized = imageSize
            }
        }
    }

    /// A cache file's first failed read (in memory, nothing fails).
    public var readFailure: DataError? {
        if case .file(let file) = pixelStorage { return file.readFailure }
        return nil
    }

    public func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        ensure(index >= 0 && index < count, "Index \(index) is outside 0..<\(count)")
        let imageSize = channels * height * width
        switch pixelStorage {
        case .memory(let pixels):
            pixels.withUnsafeBufferPointer { convert($0.baseAddress! + (firstImage + index) * imageSize, into: destination) }
        case .file(let file):
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: imageSize) { raw in
                if file.readImage(firstImage + index, into: raw) {
                    convert(raw.baseAddress!, into: destination)
                } else {
                    destination.update(repeating: .nan, count: imageSize)
                }
            }
        }
        return labelStorage[firstImage + index]
    }

    /// Writes one image's bytes at `source` as Floats through the table.
    private func convert(_ source: UnsafePointer<UInt8>, into destination: UnsafeMutablePointer<Float>) {
        let plane = height * width
        lookup.withUnsafeBufferPointer { lookup in
            var source = source
            var target = destination
            var table = lookup.baseAddress!
            for _ in 0..<channels {
                for i in 0..<plane {
                    target[i] = table[Int(source[i])]
                }
                source += plane
                target += plane
                table += 256
            }
        }
    }
}

extension ImageDataset {
    /// Writes this whole in-memory data set (pixels and labels; not its
    /// normalisation) to `path` as an `ImageCacheFile`.
    func writeCacheFile(to path: String) throws {
        guard case .memory(let pixels) = pixelStorage, firstImage == 0, count == labelStorage.count else {
            preconditionFailure("only a whole data set in memory is written to a cache file")
        }
        try ImageCacheFile.write(pixels: pixels, labels: labelStorage, channels: channels, height: height, width: width, to: path)
    }

    /// Where an `ImageDataset`'s pixels are.
    enum PixelStorage: Sendable {
        case memory([UInt8])
        /// Read image by image from the file.
        case file(ImageCacheFile)
    }
}
