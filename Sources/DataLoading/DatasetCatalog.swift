import Foundation

/// The data sets the trainer knows by name, where they live by default, and
/// how to read them, so a command line can say `--dataset mnist` and nothing
/// else.
///
/// Each entry names a file format; adding a data set in a new format means one
/// new `Format` case and its reader.
public enum DatasetCatalog {
    /// How a data set's files are laid out on disk.
    enum Format: Sendable {
        /// MNIST layout: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
        /// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each plain or `.gz`.
        case idx
        /// CIFAR-10's binary version: `data_batch_1.bin` ... `data_batch_5.bin`
        /// and `test_batch.bin`, each plain or `.gz`.
        case cifar10
    }

    struct Entry: Sendable {
        let name: String
        /// Nil where the data set must be given with a directory.
        let defaultDirectory: String?
        let classNames: [String]
        let format: Format
    }

    static let entries: [Entry] = [
        Entry(name: "fashion-mnist",
              defaultDirectory: "/usr/share/datasets/fashion-mnist",
              classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
              format: .idx),
        Entry(name: "mnist",
              defaultDirectory: "../shared/data/mnist",
              classNames: (0...9).map(String.init),
              format: .idx),
        Entry(name: "cifar10",
              defaultDirectory: nil,
              classNames: ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
              format: .cifar10),
    ]

    /// The names `load(name:dataDirectory:)` accepts; the first is the default.
    public static var names: [String] { entries.map(\.name) }

    /// Where data set `name` is looked for when no directory is given
    /// (relative paths are relative to the current directory); nil for a data
    /// set that needs one (cifar10).
    public static func defaultDirectory(for name: String) throws -> String? {
        try entry(named: name).defaultDirectory
    }

    /// The class names of data set `name`, indexed by label.
    public static func classNames(for name: String) throws -> [String] {
        try entry(named: name).classNames
    }

    /// Loads data set `name` from `dataDirectory`, or from its default
    /// directory when nil.
    ///
    /// For the IDX data sets, a directory holding only the two `t10k` files
    /// (a test set alone, like the MNIST copy in `../shared/data/mnist`) is
    /// split in order: the first 80% for training, the rest for testing
    /// (8,000 / 2,000 for MNIST's 10,000), and `note` says so.
    ///
    /// CIFAR-10 is read from the directory holding its six `.bin` files (or
    /// from its parent, where the archive unpacks `cifar-10-batches-bin`),
    /// 50,000 training and 10,000 test images normalised to [-1, 1].
    ///
    /// With a `cache` (by default `DatasetCache.shared`), each
    /// part is unpacked once into an uncompressed file there and its images
    /// are read from it as batches need them, so that every rank does not
    /// hold them all; without one, or when it cannot be used (then `note`
    /// says so), they are read into memory. Both give bitwise the same samples.
    /// - Throws: `DataError` for an unknown name (listing the known ones), a
    ///   missing directory or files (naming the path and the files expected),
    ///   or any problem in the files themselves.
    public static func load(name: String, dataDirectory: String? = nil,
                            cache: DatasetCache? = DatasetCache.shared)
        throws -> DatasetSplits {
        let entry = try entry(named: name)
        guard let directory = dataDirectory ?? entry.defaultDirectory else {
            throw DataError(.missingFiles, "data set '\(entry.name)' has no default directory: "
                            + "give the directory (--data-dir) holding \(cifar10Files.joined(separator: ", "))")
        }
        switch entry.format {
        case .idx:
            return try loadIDX(entry, directory: directory, cache: cache)
        case .cifar10:
            return try loadCIFAR10(entry, directory: directory, cache: cache)
        }
    }

    /// The images of `sources` through `cache`, or read by `unpack` into
    /// memory without one; any note the cache gives.
    private static func images(_ entry: Entry, part: String, sources: [String], cache: DatasetCache?,
                               mean: [Float]? = nil, std: [Float]? = nil,
                               unpack: () throws -> ImageDataset) throws -> (images: ImageDataset, note: String?) {
        guard let cache else { return (try unpack(), nil) }
        return try cache.images(of: entry.name + "-" + part, sources: sources, classNames: entry.classNames,
                                mean: mean, std: std, unpack: unpack)
    }

    private static func entry(named name: String) throws -> Entry {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw DataError(.unknownDataset, "'\(name)'; known data sets: \(names.joined(separator: ", "))")
        }
        return entry
    }

    private static let idxFiles = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]

    private static func loadIDX(_ entry: Entry, directory: String, cache: DatasetCache?) throws -> DatasetSplits {
        let expected = "expected \(idxFiles.joined(separator: ", ")) (each plain or .gz), "
            + "or only the two t10k files, which are then split 80/20 into train and test"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError(.missingFiles, path: directory,
                            "no such directory for data set '\(entry.name)'; \(expected)")
        }
        let found = idxFiles.map { findFile($0, in: directory) }
        let hasTrain = found[0] != nil && found[1] != nil
        let hasTest = found[2] != nil && found[3] != nil

        func part(_ name: String, images: String, labels: String) throws -> (images: ImageDataset, note: String?) {
            try Self.images(entry, part: name, sources: [images, labels], cache: cache) {
                try ImageDataset(idxImages: images, idxLabels: labels, classNames: entry.classNames)
            }
        }
        if hasTrain && hasTest {
            let train = try part("train", images: found[0]!, labels: found[1]!)
            let test = try part("test", images: found[2]!, labels: found[3]!)
            return DatasetSplits(name: entry.name, directory: directory, train: train.images, test: test.images,
                                 note: train.note ?? test.note)
        }
        if hasTest && found[0] == nil && found[1] == nil {
            let (all, cacheNote) = try part("test", images: found[2]!, labels: found[3]!)
            let trainCount = all.count * 4 / 5
            let note = "\(directory) holds only the t10k test set (\(all.count) images): "
                + "using its first \(trainCount) for training and the last \(all.count - trainCount) for testing"
            return DatasetSplits(name: entry.name, directory: directory,
                                 train: all.subset(0..<trainCount), test: all.subset(trainCount..<all.count),
                                 note: [note, cacheNote].compactMap { $0 }.joined(separator: "; "))
        }
        let missing = zip(idxFiles, found).filter { $0.1 == nil }.map(\.0)
        throw DataError(.missingFiles, path: directory,
                        "data set '\(entry.name)' lacks \(missing.joined(separator: ", ")); \(expected)")
    }

    private static let cifar10Files = (1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin"]

    private static func loadCIFAR10(_ entry: Entry, directory: String, cache: DatasetCache?) throws -> DatasetSplits {
        let expected = "expected \(cifar10Files.joined(separator: ", ")) (CIFAR-10's binary version, each plain or .gz)"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError(.missingFiles, path: directory, "no such directory for data set '\(entry.name)'; \(expected)")
        }
        // The archive unpacks into cifar-10-batches-bin/: accept its parent too.
        var folder = directory
        let unpacked = (directory.hasSuffix("/") ? directory : directory + "/") + "cifar-10-batches-bin"
        if findFile(cifar10Files[0], in: directory) == nil && findFile(cifar10Files[0], in: unpacked) != nil {
            folder = unpacked
        }
        let found = cifar10Files.map { findFile($0, in: folder) }
        let missing = zip(cifar10Files, found).filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty else {
            throw DataError(.missingFiles, path: folder,
                            "data set '\(entry.name)' lacks \(missing.joined(separator: ", ")); \(expected)")
        }
        func part(_ name: String, files: [String]) throws -> (images: ImageDataset, note: String?) {
            try images(entry, part: name, sources: files, cache: cache, mean: ImageDataset.cifar10Mean, std: ImageDataset.cifar10Std) {
                try ImageDataset(cifar10Files: files, classNames: entry.classNames)
            }
        }
        let train = try part("train", files: found[0..<5].map { $0! })
        let test = try part("test", files: [found[5]!])
        return DatasetSplits(name: entry.name, directory: folder, train: train.images, test: test.images,
                             note: train.note ?? test.note)
    }

    /// `directory/base` or else `directory/base.gz`, whichever exists.
    private static func findFile(_ base: String, in directory: String) -> String? {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return [base, base + ".gz"].map { prefix + $0 }.first { FileManager.default.fileExists(atPath: $0) }
    }
}
