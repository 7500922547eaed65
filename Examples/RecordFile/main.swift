import DataLoading
import Foundation
import NN
import Synchronization
import TensorCore
import Training

/// A data set of one's own read from a file as batches need it, not into
/// memory: fixed-size records of `features` float32 values and an int32
/// label, read with `pread`, which every rank of a machine may do at once.
final class RecordFile: Dataset {
    let path: String
    let count: Int
    let sampleShape: [Int]
    var classNames: [String] { [] }
    private let descriptor: Int32
    private var recordBytes: Int { sampleSize * 4 + 4 }
    private let failure = Mutex<DataError?>(nil)

    init(path: String, sampleShape: [Int]) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        var status = stat()
        guard descriptor >= 0, fstat(descriptor, &status) == 0 else {
            throw DataError(.cannotOpen, path: path, String(cString: strerror(errno)))
        }
        let recordBytes = sampleShape.reduce(1, *) * 4 + 4
        guard status.st_size > 0 && Int(status.st_size) % recordBytes == 0 else {
            close(descriptor)
            throw DataError(.truncated, path: path, "\(status.st_size) bytes are not whole records of \(recordBytes)")
        }
        (self.path, self.sampleShape, self.descriptor) = (path, sampleShape, descriptor)
        count = Int(status.st_size) / recordBytes
    }

    deinit { close(descriptor) }

    // copySample cannot throw: what cannot be read is NaN, and the first
    // failure goes to `readFailure`, which the trainer checks before each step.
    func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        withUnsafeTemporaryAllocation(byteCount: recordBytes, alignment: 4) { record in
            guard pread(descriptor, record.baseAddress, recordBytes, off_t(index * recordBytes)) == recordBytes else {
                destination.update(repeating: .nan, count: sampleSize)
                failure.withLock { $0 = $0 ?? DataError(.readFailed, path: path, "record \(index) cannot be read") }
                return -1
            }
            destination.update(from: record.baseAddress!.assumingMemoryBound(to: Float.self), count: sampleSize)
            return record.load(fromByteOffset: sampleSize * 4, as: Int32.self)
        }
    }

    var readFailure: DataError? { failure.withLock { $0 } }
}

/// Writes every sample of `data` as a record, to a temporary name renamed
/// into place, so that a rank never reads a half-written file.
func writeRecords(of data: any Dataset, to path: String) throws {
    var bytes = Data()
    var sample = [Float](repeating: 0, count: data.sampleSize)
    for index in 0..<data.count {
        var label = data.copySample(at: index, into: &sample)
        sample.withUnsafeBytes { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: &label) { bytes.append(contentsOf: $0) }
    }
    let temporary = path + ".\(getpid()).tmp"
    try bytes.write(to: URL(fileURLWithPath: temporary))
    guard rename(temporary, path) == 0 else { throw DataError(.readFailed, path: path, "cannot rename \(temporary)") }
}

Trainer.main {
    let arguments = CommandLine.arguments
    let inMemory = arguments.contains("--in-memory")  // the tests' reference: the same samples, held in memory
    let catalog = try DatasetCatalog.load(name: "fashion-mnist")
    if !inMemory && !FileManager.default.fileExists(atPath: "train.records") {
        try writeRecords(of: catalog.train, to: "train.records")  // once: 188 MB, in the current directory
    }
    let train: any Dataset = inMemory ? catalog.train : try RecordFile(path: "train.records", sampleShape: [1, 28, 28])

    var generator = RandomGenerator(seed: 0)
    let model = Sequential([Flatten(), Linear(784, 64, generator: &generator), ReLU(), Linear(64, 10, generator: &generator)])
    var options = TrainingOptions()
    options.checkpointDirectory = "runs/record-file"
    options.maxSteps = arguments.firstIndex(of: "--max-steps").map { Int(arguments[$0 + 1])! }
    let trainer = try Trainer(model: model, identity: ModelIdentity(name: "record-file"), train: train,
                              evaluation: catalog.test, loss: .crossEntropy, metrics: [.accuracy], options: options)
    let outcome = try trainer.fit()
    if trainer.rank == 0 { print("record-file: \(outcome)") }
}
