import DataLoading
import HDF5
import SafeFiles
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The samples of one `--data` file's `x` (or `x_test`), read from the file
/// when a batch asks for them, so that a rank's memory does not grow with
/// the number of samples (issue 21); the class labels (a byte each while
/// they are below 256) or float targets (4 bytes a value) are kept in memory.
///
/// How a sample is read depends on how the file stores `x`
/// (`HDF5DatasetStorage`):
/// - contiguous and unfiltered (h5py's default): `pread` at the offset the
///   library reports, outside the library and its process-wide lock, so the
///   prefetch thread never waits on another HDF5 call, and every rank on a
///   machine reads the one copy in the kernel's page cache. Not a memory
///   map: mapped pages would count as each rank's resident memory, and a
///   file truncated under a map kills the process with SIGBUS instead of
///   failing a read.
/// - chunked or compressed: a one-row hyperslab read through the library
///   (`HDF5File.readRows`), whose chunk cache (32 MiB) decodes each chunk
///   once for the rows read from it in turn.
///
/// Values come out exactly as the in-memory read gave them: uint8 scaled by
/// 1/255, float32 as stored, float64 rounded to Float.
///
/// A read that fails once training has started (the file truncated, an I/O
/// error, a value that is not finite) cannot throw from `copySample`: the
/// sample is filled with NaN and the first failure is kept in
/// `readFailure`, naming the file, the dataset and the row, for the trainer
/// to throw before the batch is used.
public final class HDF5FileDataset: Dataset {
    public let count: Int
    public let sampleShape: [Int]
    public let targetShape: [Int]
    public var classNames: [String] { [] }
    /// The file, shared by the training and the test set read from it.
    let source: Source
    /// The dataset in the file, e.g. "x" or "x_test".
    public let datasetPath: String
    /// The file's row of this data set's sample 0 (a test set split off the
    /// end of `x` starts past 0).
    public let firstRow: Int
    /// How `x` is stored: uint8, float32 or float64.
    let element: HDF5ElementType
    /// Byte offset of row 0 for `pread`; nil: read through the library.
    let contiguousOffset: Int?
    private let sampleSize: Int
    private let targetSize: Int
    private let labels: Labels?
    private let targets: [Float]?
    private let failure = Mutex<DataError?>(nil)

    /// - Parameters:
    ///   - rows: the file's rows this data set holds, in order.
    ///   - labels, targets: one label, or `targetShape` floats, per row of `rows`.
    init(source: Source, datasetPath: String, rows: Range<Int>, sampleShape: [Int], element: HDF5ElementType,
         storage: HDF5DatasetStorage, labels: Labels?, targets: [Float]?, targetShape: [Int]) {
        precondition([.uint8, .float32, .float64].contains(element), "HDF5FileDataset reads uint8, float32 or float64, not \(element)")
        count = rows.count
        self.sampleShape = sampleShape
        self.targetShape = targetShape
        self.source = source
        self.datasetPath = datasetPath
        firstRow = rows.lowerBound
        self.element = element
        sampleSize = sampleShape.reduce(1, *)
        targetSize = targetShape.reduce(1, *)
        contiguousOffset = storage.contiguousOffset
        self.labels = labels
        self.targets = targets
    }

    public var readFailure: DataError? { failure.withLock { $0 } }

    /// What this data set's values are, as far as they are read from its
    /// file: the file's identity when opened, the dataset, the rows and the
    /// conversion. `DataContent` remembers checksums under it.
    public var contentKey: String? {
        source.identity.map { "\($0)|\(datasetPath)|\(firstRow)+\(count)|\(element)|\(labels == nil ? "targets" : "labels")" }
    }

    /// Whether samples are read with `pread` (contiguous storage), not
    /// through the HDF5 library.
    public var isReadWithPread: Bool { contiguousOffset != nil }

    public func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        if let problem = read(row: firstRow + index, into: destination) {
            // What could not be read is NaN; a value that is not finite stays as it is (DataContent names it).
            if problem.kind != .nonFiniteValue { destination.update(repeating: .nan, count: sampleSize) }
            failure.withLock { first in
                if first == nil { first = problem }
            }
        }
        return labels?[index] ?? -1
    }

    public func copyTarget(at index: Int, into destination: UnsafeMutablePointer<Float>) {
        guard let targets else { return }
        targets.withUnsafeBufferPointer { t in destination.update(from: t.baseAddress! + index * targetSize, count: targetSize) }
    }

    /// Reads `row` of the file's dataset into `destination` as Floats, or
    /// says what went wrong.
    private func read(row: Int, into destination: UnsafeMutablePointer<Float>) -> DataError? {
        let size = sampleSize, bytes = sampleSize * source.elementSize(element)
        var problem: DataError?
        switch element {
        case .float32:
            problem = readRaw(row: row, into: UnsafeMutableRawBufferPointer(start: destination, count: bytes))
            if problem == nil, let bad = (0..<size).first(where: { !destination[$0].isFinite }) {
                problem = notFinite(row: row, value: Double(destination[bad]), feature: bad)
            }
        case .uint8:
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { raw in
                problem = readRaw(row: row, into: UnsafeMutableRawBufferPointer(raw))
                // The in-memory path's arithmetic exactly (TensorDataset): bitwise the same inputs.
                for i in 0..<size { destination[i] = Float(raw[i]) * (1 / 255) }
            }
        default:
            withUnsafeTemporaryAllocation(of: Double.self, capacity: size) { raw in
                problem = readRaw(row: row, into: UnsafeMutableRawBufferPointer(raw))
                for i in 0..<size { destination[i] = Float(raw[i]) }
            }
            if problem == nil, let bad = (0..<size).first(where: { !destination[$0].isFinite }) {
                problem = notFinite(row: row, value: Double(destination[bad]), feature: bad)
            }
        }
        return problem
    }

    /// The stored bytes of `row`, by `pread` or through the library.
    private func readRaw(row: Int, into buffer: UnsafeMutableRawBufferPointer) -> DataError? {
        if let offset = contiguousOffset {
            return source.readBytes(buffer, at: offset + row * buffer.count, dataset: datasetPath, row: row)
        }
        return source.readRows(datasetPath, row: row, as: element, into: buffer)
    }

    private func notFinite(row: Int, value: Double, feature: Int) -> DataError {
        DataError(.nonFiniteValue, path: source.path,
                  "dataset '\(datasetPath)', sample \(row) holds \(value) at feature \(feature) (shape \(sampleShape)); "
                  + "the file changed after the run checked it at start, and every value must be finite")
    }
}

extension HDF5FileDataset {
    /// Class labels, one byte each while every label is below 256 (nearly
    /// every classification data set), four once one is not: with the
    /// samples streamed, the labels are what a rank holds per sample.
    struct Labels: Sendable {
        private var bytes: [UInt8] = []
        private var wide: [Int32]?
        /// The largest label appended (0 when none).
        private(set) var largest: Int32 = 0

        init(capacity: Int) { bytes.reserveCapacity(capacity) }

        var count: Int { wide?.count ?? bytes.count }

        /// Appends `label` (0 or more).
        mutating func append(_ label: Int32) {
            largest = max(largest, label)
            if wide != nil {
                wide!.append(label)
            } else if label < 256 {
                bytes.append(UInt8(label))
            } else {
                wide = bytes.map { Int32($0) } + [label]
                bytes = []
            }
        }

        subscript(index: Int) -> Int32 { wide?[index] ?? Int32(bytes[index]) }

        /// The labels at `rows`.
        func slice(_ rows: Range<Int>) -> Labels {
            if rows == 0..<count { return self }
            var part = Labels(capacity: rows.count)
            for row in rows { part.append(self[row]) }
            return part
        }
    }

    /// One open `--data` file: a descriptor for `pread` and the HDF5 file
    /// for library reads, closed when the last data set reading it goes.
    final class Source: Sendable {
        let path: String
        let file: HDF5File
        private let descriptor: Int32
        /// The file's size when it was opened: a smaller one later means it
        /// was truncated while the run read it.
        private let openedSize: Int
        /// Which file, and which version of it, was opened.
        let identity: FileIdentity?

        init(path: String, file: HDF5File) throws {
            self.path = path
            self.file = file
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw DataError(.cannotOpen, path: path, String(cString: strerror(errno)))
            }
            var status = stat()
            guard fstat(descriptor, &status) == 0 else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw DataError(.cannotOpen, path: path, reason)
            }
            self.descriptor = descriptor
            openedSize = Int(status.st_size)
            identity = FileIdentity(descriptor: descriptor, path: path)
        }

        deinit {
            close(descriptor)
        }

        func elementSize(_ element: HDF5ElementType) -> Int {
            switch element {
            case .uint8: 1
            case .int32, .uint32, .float32: 4
            case .int64, .uint64, .float64: 8
            }
        }

        /// Fills `buffer` from the file at `offset` (row `row` of `dataset`).
        func readBytes(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int, dataset: String, row: Int) -> DataError? {
            switch readFully(descriptor, into: buffer, at: offset) {
            case .complete:
                return nil
            case .endOfFile:
                return truncation(dataset: dataset, row: row)
                    ?? DataError(.truncated, path: path, "dataset '\(dataset)', sample \(row): the file ends before its bytes "
                                 + "\(offset)..<\(offset + buffer.count)")
            case .failed(let code):
                return DataError(.readFailed, path: path, "dataset '\(dataset)', sample \(row): \(String(cString: strerror(code)))")
            }
        }

        /// Row `row` of `dataset` through the library (chunked or compressed).
        func readRows(_ dataset: String, row: Int, as element: HDF5ElementType, into buffer: UnsafeMutableRawBufferPointer) -> DataError? {
            do {
                try file.readRows(dataset, rows: row..<row + 1, as: element, into: buffer)
            } catch {
                return truncation(dataset: dataset, row: row)
                    ?? DataError(.readFailed, path: path, "dataset '\(dataset)', sample \(row): \(error)")
            }
            // HDF5's POSIX driver reads zeros past the end of a file: a file
            // truncated under it shows only in its size.
            return truncation(dataset: dataset, row: row)
        }

        /// A truncation error if the file is now shorter than when it was opened.
        private func truncation(dataset: String, row: Int) -> DataError? {
            var status = stat()
            guard fstat(descriptor, &status) == 0, Int(status.st_size) < openedSize else { return nil }
            return DataError(.truncated, path: path, "dataset '\(dataset)', sample \(row): the file shrank from \(openedSize) to "
                             + "\(status.st_size) bytes while the run read it; the last checkpoint is intact: restore the file "
                             + "and run the same command again to resume")
        }
    }
}
