import DataLoading
import HDF5
import TrainingErrors

/// A user's data set in one HDF5 file, as h5py writes it
/// (`trainer train --data FILE.h5`):
///
///     x        [N, ...]  uint8 (scaled to [0, 1]) or float32 (float64 is converted)
///     y        [N]       integer class labels, or [N, k] float targets (regression)
///     x_test, y_test     the same for the test set; without them the last
///                        `validationFraction` of the samples is the test set
///
/// The samples are not read here: the two data sets are `HDF5FileDataset`s
/// that read each sample from the file when a batch needs it (contiguous
/// storage with `pread`, chunked or compressed through the library's chunk
/// cache), so a rank's memory does not grow with the file. The labels or
/// float targets are read here and kept (4 bytes a value). Every problem is
/// an error that names the file and the dataset.
public enum HDF5DataFile {
    /// The two data sets and what the trainer should know about them.
    public struct Splits: Sendable {
        public var train: any Dataset
        public var test: any Dataset
        /// How the test set was made when the file has none.
        public var note: String?
        /// Classes (one more than the largest label), or nil for float targets.
        public var classes: Int?
    }

    /// Opens `path` and reads its labels or targets; `validationFraction`
    /// (0 < f < 1) splits off the test set when the file has no `x_test`.
    /// The file stays open while either data set is in use.
    public static func load(_ path: String, validationFraction: Double = 0.1) throws -> Splits {
        func fail(_ what: String) -> TrainingError { TrainingError.invalidOption(.dataFile, "\(path): \(what)") }
        let file: HDF5File
        do {
            file = try HDF5File.open(path)
        } catch {
            throw fail("cannot read it as HDF5: \(error)")
        }
        do {
            let source = try HDF5FileDataset.Source(path: path, file: file)
            return try load(source, validationFraction: validationFraction, fail)
        } catch let error as HDF5Error {
            // A dataset HDF5 cannot read (damaged, or a shape the file has no
            // room for) is the file's fault: name --data, and exit as a
            // permanent error, which ./launch does not retry.
            try? file.close()
            throw fail("object '\(error.objectPath)': cannot \(error.operation): \(error.detail)")
        } catch let error as DataError {
            try? file.close()
            throw fail("\(error.kind.rawValue): \(error.detail)")
        } catch {
            try? file.close()
            throw error
        }
    }

    /// Shards of one data set in several files with the same layout, each
    /// read as `load(_:validationFraction:)` reads one file (its own
    /// `x_test`, or its own last `validationFraction` held out), the
    /// training parts and the test parts each concatenated in the order of
    /// `paths`. Every shard has `x_test` or none does; the samples, their
    /// type (uint8 or float) and the kind of targets must agree.
    public static func load(shards paths: [String], validationFraction: Double = 0.1) throws -> Splits {
        guard let first = paths.first else { throw TrainingError.invalidOption(.dataFile, "no file to read") }
        let splits = try paths.map { try load($0, validationFraction: validationFraction) }
        guard splits.count > 1 else { return splits[0] }
        func isUInt8(_ data: any Dataset) -> Bool { (data as? HDF5FileDataset)?.element == .uint8 }
        let reference = splits[0]
        for (path, shard) in zip(paths, splits).dropFirst() {
            func fail(_ what: String) -> TrainingError { .invalidOption(.dataFile, "\(path): \(what) (the shards are read as one data set)") }
            guard shard.train.sampleShape == reference.train.sampleShape, isUInt8(shard.train) == isUInt8(reference.train) else {
                throw fail("its samples are \(shard.train.sampleShape)\(isUInt8(shard.train) ? " uint8" : " float"), those of "
                           + "\(first) \(reference.train.sampleShape)\(isUInt8(reference.train) ? " uint8" : " float")")
            }
            guard (shard.classes == nil) == (reference.classes == nil), shard.train.targetShape == reference.train.targetShape else {
                throw fail("its targets are \(kind(shard.classes != nil, shard.train.targetShape)), those of \(first) "
                           + kind(reference.classes != nil, reference.train.targetShape))
            }
            guard (shard.note == nil) == (reference.note == nil) else {
                throw fail("it has \(shard.note == nil ? "" : "no ")x_test but \(first) has \(reference.note == nil ? "" : "none"); "
                           + "give every shard x_test and y_test, or none")
            }
        }
        let classes = splits.compactMap(\.classes).max()
        return Splits(train: ConcatenatedDataset(splits.map(\.train)), test: ConcatenatedDataset(splits.map(\.test)),
                      note: reference.note.map { _ in
                          "the \(paths.count) shards have no x_test: the last \(validationFraction) of each is the test set" },
                      classes: classes)
    }

    /// `load(_:validationFraction:)` on the opened file.
    private static func load(_ source: HDF5FileDataset.Source, validationFraction: Double,
                             _ fail: (String) -> TrainingError) throws -> Splits {
        let file = source.file, path = source.path
        guard try file.exists("x") else { throw fail("no dataset 'x' (the samples, [N, ...])") }
        guard try file.exists("y") else { throw fail("no dataset 'y' (class labels [N], or float targets [N, k])") }
        let hasTest = try file.exists("x_test"), hasTestLabels = try file.exists("y_test")
        guard hasTest == hasTestLabels else {
            throw fail("it has \(hasTest ? "x_test" : "y_test") without \(hasTest ? "y_test" : "x_test"); give both or neither")
        }
        let train = try read(file, x: "x", y: "y", fail)
        let n = train.count
        guard hasTest else {
            guard validationFraction > 0 && validationFraction < 1 else {
                throw TrainingError.invalidOption(.validationFraction, "must be between 0 and 1 (exclusive) when \(path) has no x_test, got \(validationFraction)")
            }
            let held = Int((Double(n) * validationFraction).rounded(.up))
            guard held >= 1 && held < n else {
                throw TrainingError.invalidOption(.validationFraction, "\(validationFraction) of \(n) samples leaves no training or no test samples")
            }
            // Two views of one file, not two copies.
            return Splits(train: train.dataset(source, rows: 0..<n - held), test: train.dataset(source, rows: n - held..<n),
                          note: "\(path) has no x_test: its last \(held) of \(n) samples are the test set (--val-fraction \(validationFraction))",
                          classes: train.labels.map { Int($0.largest) + 1 })
        }
        let test = try read(file, x: "x_test", y: "y_test", fail)
        guard test.shape == train.shape else {
            throw fail("x_test has samples of \(test.shape), x of \(train.shape)")
        }
        // uint8 pixels are scaled by 1/255, floats are used as they are: mixed,
        // the test set would be on another scale than the training set.
        guard (test.element == .uint8) == (train.element == .uint8) else {
            func scale(_ part: Part) -> String { part.element == .uint8 ? "uint8 (scaled by 1/255)" : "float (used as it is)" }
            throw fail("x is \(scale(train)) but x_test is \(scale(test)); store both with the same type")
        }
        guard (test.labels == nil) == (train.labels == nil) && test.targetShape == train.targetShape else {
            throw fail("y_test and y hold different kinds of targets (\(kind(test.labels != nil, test.targetShape)) and \(kind(train.labels != nil, train.targetShape)))")
        }
        let classes = train.labels.map { labels in Int(max(labels.largest, test.labels?.largest ?? 0)) + 1 }
        return Splits(train: train.dataset(source, rows: 0..<n), test: test.dataset(source, rows: 0..<test.count),
                      note: nil, classes: classes)
    }

    private static func kind(_ hasLabels: Bool, _ targetShape: [Int]) -> String {
        hasLabels ? "class labels" : "float targets of \(targetShape)"
    }

    /// What the file holds for one split: how `x` is stored, and the labels or targets of `y`.
    private struct Part {
        var x: String
        var count: Int
        var shape: [Int]
        var element: HDF5ElementType
        var storage: HDF5DatasetStorage
        var labels: HDF5FileDataset.Labels?
        var targets: [Float]?
        var targetShape: [Int]

        /// The samples at the file's `rows`.
        func dataset(_ source: HDF5FileDataset.Source, rows: Range<Int>) -> HDF5FileDataset {
            let size = targetShape.reduce(1, *)
            return HDF5FileDataset(source: source, datasetPath: x, rows: rows, sampleShape: shape, element: element,
                                   storage: storage, labels: labels.map { $0.slice(rows) },
                                   targets: targets.map { Array($0[rows.lowerBound * size..<rows.upperBound * size]) },
                                   targetShape: targetShape)
        }
    }

    /// Rows of `y` read at a time: the labels are converted block by block,
    /// never held as Int64 whole.
    private static let labelBlock = 65_536

    /// The layout of `x` and the targets `y` of one split.
    private static func read(_ file: HDF5File, x: String, y: String, _ fail: (String) -> TrainingError) throws -> Part {
        let xShape = try file.datasetShape(x)
        guard xShape.count >= 2, xShape.allSatisfy({ $0 > 0 }) else {
            throw fail("dataset '\(x)' has shape \(xShape); expected [N, ...] with N samples of at least one value")
        }
        let xType = try file.datasetElementType(x)
        guard let element = xType.type, [.uint8, .float32, .float64].contains(element) else {
            throw fail("dataset '\(x)' holds \(xType.description); expected uint8 or float32")
        }
        let storage = try file.datasetStorage(x)
        let n = xShape[0]
        var part = Part(x: x, count: n, shape: Array(xShape.dropFirst()), element: element, storage: storage,
                        labels: nil, targets: nil, targetShape: [])
        let yShape = try file.datasetShape(y)
        guard yShape.first == n else {
            throw fail("'\(y)' has \(yShape.first.map(String.init) ?? "no") rows but '\(x)' has \(n) samples")
        }
        let yType = try file.datasetElementType(y)
        if yType.description.hasPrefix("int") || yType.description.hasPrefix("uint") {
            guard yShape.count == 1 else {
                throw fail("'\(y)' holds integers (\(yType.description)) of shape \(yShape); class labels are [N] (float targets are [N, k])")
            }
            // Any width and sign: the library converts to Int64 (uint64 beyond Int64.max saturates, and is refused below).
            // More classes than this would be an output layer of millions of units per feature.
            let most: Int64 = 100_000
            var labels = HDF5FileDataset.Labels(capacity: n)
            var block = [Int64](repeating: 0, count: min(labelBlock, n))
            for start in stride(from: 0, to: n, by: labelBlock) {
                let rows = start..<min(start + labelBlock, n)
                try block.withUnsafeMutableBytes { raw in
                    try file.readRows(y, rows: rows, as: .int64, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<rows.count * 8]))
                }
                for value in block[0..<rows.count] {
                    guard value >= 0 && value < most else {
                        throw fail("'\(y)' (\(yType.description)) holds the class label \(value); labels must be from 0 to \(most - 1)")
                    }
                    labels.append(Int32(value))
                }
            }
            part.labels = labels
            return part
        }
        switch yType.type {
        case .float32, .float64:
            guard yShape.count == 2, yShape[1] > 0 else {
                throw fail("'\(y)' holds floats of shape \(yShape); float targets are [N, k] (for one target per sample, [N, 1])")
            }
            let targets = yType.type == .float32 ? try file.readDataset(y, as: Float.self).values
                : try file.readDataset(y, as: Double.self).values.map { Float($0) }
            guard targets.allSatisfy({ $0.isFinite }) else { throw fail("'\(y)' holds a NaN or infinite target") }
            part.targets = targets
            part.targetShape = [yShape[1]]
            return part
        default:
            throw fail("'\(y)' holds \(yType.description), which is neither integer class labels (int8 to int64, uint8 to "
                       + "uint64) nor float targets (float32 or float64); store y as numpy integers or floats")
        }
    }
}
