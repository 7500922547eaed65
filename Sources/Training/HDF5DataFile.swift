import Checkpoint
import DataLoading

/// A user's data set in one HDF5 file, as h5py writes it
/// (`trainer train --data FILE.h5`):
///
///     x        [N, ...]  uint8 (scaled to [0, 1]) or float32 (float64 is converted)
///     y        [N]       integer class labels, or [N, k] float targets (regression)
///     x_test, y_test     the same for the test set; without them the last
///                        `validationFraction` of the samples is the test set
///
/// The whole file is read into memory on every rank (a 60,000 x 784 float32
/// `x` is 188 MB); uint8 features stay bytes. Every problem is an error that
/// names the file and the dataset.
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

    /// Reads `path`; `validationFraction` (0 < f < 1) splits off the test set
    /// when the file has no `x_test`.
    public static func load(_ path: String, validationFraction: Double = 0.1) throws -> Splits {
        func fail(_ what: String) -> TrainingError { TrainingError.invalidOption("--data", "\(path): \(what)") }
        let file: HDF5File
        do {
            file = try HDF5File.open(path)
        } catch {
            throw fail("cannot read it as HDF5: \(error)")
        }
        defer { try? file.close() }
        do {
            return try load(file, path: path, validationFraction: validationFraction, fail)
        } catch let error as HDF5Error {
            // A dataset HDF5 cannot read (damaged, or a shape the file has no
            // room for) is the file's fault: name --data, and exit as a
            // permanent error, which ./launch does not retry.
            throw fail("object '\(error.objectPath)': cannot \(error.operation): \(error.detail)")
        }
    }

    /// `load(_:validationFraction:)` on the opened `file`.
    private static func load(_ file: HDF5File, path: String, validationFraction: Double,
                             _ fail: (String) -> TrainingError) throws -> Splits {
        guard try file.exists("x") else { throw fail("no dataset 'x' (the samples, [N, ...])") }
        guard try file.exists("y") else { throw fail("no dataset 'y' (class labels [N], or float targets [N, k])") }
        let hasTest = try file.exists("x_test"), hasTestLabels = try file.exists("y_test")
        guard hasTest == hasTestLabels else {
            throw fail("it has \(hasTest ? "x_test" : "y_test") without \(hasTest ? "y_test" : "x_test"); give both or neither")
        }
        let train = try read(file, x: "x", y: "y", fail)
        let all = TensorDataset(features: train.features, sampleShape: train.shape, labels: train.labels,
                                targets: train.targets, targetShape: train.targetShape)
        guard hasTest else {
            guard validationFraction > 0 && validationFraction < 1 else {
                throw TrainingError.invalidOption("--val-fraction", "must be between 0 and 1 (exclusive) when \(path) has no x_test, got \(validationFraction)")
            }
            let n = all.count
            let held = Int((Double(n) * validationFraction).rounded(.up))
            guard held >= 1 && held < n else {
                throw TrainingError.invalidOption("--val-fraction", "\(validationFraction) of \(n) samples leaves no training or no test samples")
            }
            // Views of the one copy in memory, not two copies.
            return Splits(train: Subset(all, 0..<n - held), test: Subset(all, n - held..<n),
                          note: "\(path) has no x_test: its last \(held) of \(n) samples are the test set (--val-fraction \(validationFraction))",
                          classes: train.labels.map { Int($0.max() ?? 0) + 1 })
        }
        let test = try read(file, x: "x_test", y: "y_test", fail)
        guard test.shape == train.shape else {
            throw fail("x_test has samples of \(test.shape), x of \(train.shape)")
        }
        // uint8 pixels are scaled by 1/255, floats are used as they are: mixed,
        // the test set would be on another scale than the training set.
        guard test.features.isBytes == train.features.isBytes else {
            throw fail("x is \(train.features.isBytes ? "uint8 (scaled by 1/255)" : "float (used as it is)") but x_test is "
                       + "\(test.features.isBytes ? "uint8 (scaled by 1/255)" : "float (used as it is)"); store both with the same type")
        }
        guard (test.labels == nil) == (train.labels == nil) && test.targetShape == train.targetShape else {
            throw fail("y_test and y hold different kinds of targets (\(kind(test.labels, test.targetShape)) and \(kind(train.labels, train.targetShape)))")
        }
        let classes = train.labels.map { labels in Int(max(labels.max() ?? 0, test.labels?.max() ?? 0)) + 1 }
        return Splits(train: all,
                      test: TensorDataset(features: test.features, sampleShape: test.shape, labels: test.labels,
                                          targets: test.targets, targetShape: test.targetShape),
                      note: nil, classes: classes)
    }

    private static func kind(_ labels: [Int32]?, _ targetShape: [Int]) -> String {
        labels != nil ? "class labels" : "float targets of \(targetShape)"
    }

    /// Features `x` and targets `y` of one split.
    private static func read(_ file: HDF5File, x: String, y: String, _ fail: (String) -> TrainingError) throws
        -> (features: TensorDataset.Features, shape: [Int], labels: [Int32]?, targets: [Float]?, targetShape: [Int]) {
        let xShape = try file.datasetShape(x)
        guard xShape.count >= 2, xShape.allSatisfy({ $0 > 0 }) else {
            throw fail("dataset '\(x)' has shape \(xShape); expected [N, ...] with N samples of at least one value")
        }
        let features: TensorDataset.Features
        let xType = try file.datasetElementType(x)
        switch xType.type {
        case .uint8: features = .bytes(try file.readDataset(x, as: UInt8.self).values)
        case .float32: features = .floats(try file.readDataset(x, as: Float.self).values)
        case .float64: features = .floats(try file.readDataset(x, as: Double.self).values.map { Float($0) })
        default: throw fail("dataset '\(x)' holds \(xType.description); expected uint8 or float32")
        }
        let n = xShape[0]
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
            let values = try file.readIntegerDataset(y).values
            // More classes than this would be an output layer of millions of units per feature.
            let most: Int64 = 100_000
            if let bad = values.first(where: { $0 < 0 || $0 >= most }) {
                throw fail("'\(y)' (\(yType.description)) holds the class label \(bad); labels must be from 0 to \(most - 1)")
            }
            return (features, Array(xShape.dropFirst()), values.map { Int32($0) }, nil, [])
        }
        switch yType.type {
        case .float32, .float64:
            guard yShape.count == 2, yShape[1] > 0 else {
                throw fail("'\(y)' holds floats of shape \(yShape); float targets are [N, k] (for one target per sample, [N, 1])")
            }
            let targets = yType.type == .float32 ? try file.readDataset(y, as: Float.self).values
                : try file.readDataset(y, as: Double.self).values.map { Float($0) }
            guard targets.allSatisfy({ $0.isFinite }) else { throw fail("'\(y)' holds a NaN or infinite target") }
            return (features, Array(xShape.dropFirst()), nil, targets, [yShape[1]])
        default:
            throw fail("'\(y)' holds \(yType.description), which is neither integer class labels (int8 to int64, uint8 to "
                       + "uint64) nor float targets (float32 or float64); store y as numpy integers or floats")
        }
    }
}
