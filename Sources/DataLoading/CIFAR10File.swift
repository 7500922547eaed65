/// One file of CIFAR-10's binary version (`data_batch_1.bin` ... `data_batch_5.bin`,
/// `test_batch.bin`), read whole into memory.
///
/// The format has no header: the file is a run of 3,073-byte records, each a
/// label byte (0-9) followed by a 3x32x32 image: 1,024 red, then 1,024 green,
/// then 1,024 blue bytes, each plane row-major. That is already the
/// channels x height x width layout the models take.
///
/// Reading is as strict as the IDX reader's: an empty file, a size that is not
/// a whole number of records, or a label above 9 is an error naming the file,
/// since there is no magic number to catch a wrong or garbled file otherwise.
/// Files may be gzipped or not.
public struct CIFAR10File: Sendable {
    /// Bytes per record: one label byte and 3 x 32 x 32 pixel bytes.
    public static let recordSize = 1 + imageSize
    /// Pixel bytes per image.
    public static let imageSize = channels * height * width
    public static let channels = 3
    public static let height = 32
    public static let width = 32
    /// Labels lie in 0..<classCount.
    public static let classCount = 10

    /// The path the file was read from.
    public let path: String
    /// One label per record.
    public let labels: [UInt8]
    /// Every record's image, `count` x 3 x 32 x 32 bytes.
    public let pixels: [UInt8]

    /// Number of images.
    public var count: Int { labels.count }

    /// Reads and validates the CIFAR-10 batch file at `path` (gzipped or plain).
    /// - Throws: `DataError` naming `path` and the problem.
    public init(contentsOf path: String) throws {
        let file = try GzipInputFile(path: path)
        let bytes = try file.readAll(chunk: 1 << 22)
        let recordSize = Self.recordSize
        let cut = file.compressedStreamWasCutShort ? " (the gzip stream itself is cut short)" : ""
        guard !bytes.isEmpty else {
            throw DataError(.truncated, path: path, "file is empty; expected records of \(recordSize) bytes (a label byte and a 3x32x32 image)\(cut)")
        }
        guard bytes.count % recordSize == 0 else {
            throw DataError(.truncated, path: path,
                            "file has \(bytes.count) bytes, not a whole number of \(recordSize)-byte records: "
                            + "\(bytes.count / recordSize) records and \(bytes.count % recordSize) bytes of a cut-short one\(cut)")
        }
        let count = bytes.count / recordSize
        var labels = [UInt8](repeating: 0, count: count)
        var pixels = [UInt8](repeating: 0, count: count * Self.imageSize)
        bytes.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                for i in 0..<count {
                    let record = source.baseAddress! + i * recordSize
                    labels[i] = record[0]
                    (target.baseAddress! + i * Self.imageSize).update(from: record + 1, count: Self.imageSize)
                }
            }
        }
        if let bad = labels.firstIndex(where: { Int($0) >= Self.classCount }) {
            throw DataError(.labelOutOfRange, path: path,
                            "record \(bad) (byte offset \(bad * recordSize)) has label \(labels[bad]); CIFAR-10 labels are 0-9 "
                            + "(is this CIFAR-10's binary version, with \(recordSize)-byte records?)")
        }
        self.path = path
        self.labels = labels
        self.pixels = pixels
    }
}

extension ImageDataset {
    /// The images of CIFAR-10 batch files, in the order given, as one data set
    /// of 3x32x32 images normalised as the course does: (x - 0.5) / 0.5 per
    /// channel after scaling to [0, 1], so pixels lie in [-1, 1].
    /// - Throws: `DataError` naming the offending file.
    public init(cifar10Files paths: [String], classNames: [String] = []) throws {
        var pixels: [UInt8] = []
        var labels: [Int32] = []
        for path in paths {
            let file = try CIFAR10File(contentsOf: path)
            pixels += file.pixels
            labels += file.labels.map { Int32($0) }
        }
        self.init(pixels: pixels, labels: labels, channels: CIFAR10File.channels, height: CIFAR10File.height,
                  width: CIFAR10File.width, classNames: classNames,
                  mean: Self.cifar10Mean, std: Self.cifar10Std)
    }

    /// CIFAR-10's normalisation, per channel: (x - 0.5) / 0.5.
    public static let cifar10Mean: [Float] = [0.5, 0.5, 0.5]
    public static let cifar10Std: [Float] = [0.5, 0.5, 0.5]
}
