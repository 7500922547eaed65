import DataLoading
import SafeFiles

/// Every value of a data set, read once when a run starts: a checksum that
/// resuming compares, and the first value that is not finite.
///
/// A checksum of a few samples (the older `data_fingerprint`) let a file
/// rewritten in place with 99% of its samples changed resume silently, and
/// a NaN in the test set only showed as `test_loss nan` after an epoch.
/// Reading everything costs one pass over the data: about 0.2 s for
/// Fashion-MNIST's 70,000 images here, 3 s for 2.4 million samples in a
/// `--data` file. For data read from files alone (`--data`), the checksum
/// is therefore remembered (`RecordCache`) under the files' identities, so
/// that only the first run over a file, or a run after it changed, pays the
/// pass (issue 21: the start must not grow with the data).
struct DataContent: Sendable, Equatable {
    /// A 64-bit hash of every feature, label and target, as hex.
    let checksum: String

    /// The checksum of `dataset`: remembered, or read (`init(reading:role:name:)`)
    /// and then remembered when its values come from files alone.
    init(_ dataset: any Dataset, role: String, name: String, cache: RecordCache? = .shared) throws {
        let key = dataset.contentKey.map { "data-content-1|\(dataset.count)|\($0)" }
        if let key, let cache, let saved = cache.value(for: key) {
            self = DataContent(checksum: saved)
            return
        }
        try self.init(reading: dataset, role: role, name: name)
        if let key { cache?.store(checksum, for: key) }
    }

    private init(checksum: String) {
        self.checksum = checksum
    }

    /// Reads all of `dataset` (`role`: "training set" or "test set" of
    /// `name`); throws `TrainingError.data` naming the sample, the value
    /// and where it sits when one is NaN or infinite.
    init(reading dataset: any Dataset, role: String, name: String) throws {
        let size = dataset.sampleSize, targetSize = dataset.targetSize
        var sample = [Float](repeating: 0, count: max(size, 1)), target = [Float](repeating: 0, count: max(targetSize, 1))
        // Four interleaved FNV-style lanes over the values' bit patterns: the
        // multiplications of one lane do not wait on another's.
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4, 0x9ce4_8422_2325_cbf2,
                                                      0x2325_cbf2_9ce4_8422)
        let prime: UInt64 = 0x0000_0100_0000_01B3
        func mix(_ values: UnsafeBufferPointer<Float>) -> Int? {
            var bad: Int?
            var i = 0
            // In locals, not the captured tuple: each update would otherwise
            // go through memory (3x slower over a large --data file).
            var (a, b, c, d) = lanes
            while i + 4 <= values.count {
                a = (a ^ UInt64(values[i].bitPattern)) &* prime
                b = (b ^ UInt64(values[i + 1].bitPattern)) &* prime
                c = (c ^ UInt64(values[i + 2].bitPattern)) &* prime
                d = (d ^ UInt64(values[i + 3].bitPattern)) &* prime
                i += 4
            }
            while i < values.count {
                a = (a ^ UInt64(values[i].bitPattern)) &* prime
                i += 1
            }
            lanes = (a, b, c, d)
            if !values.allSatisfy(\.isFinite) { bad = values.firstIndex { !$0.isFinite } }
            return bad
        }
        for index in 0..<dataset.count {
            let label = sample.withUnsafeMutableBufferPointer { dataset.copySample(at: index, into: $0.baseAddress!) }
            // A sample that could not be read holds NaN: say why, not "holds nan".
            if let failure = dataset.readFailure, failure.kind != .nonFiniteValue { throw failure }
            lanes.1 = (lanes.1 ^ UInt64(UInt32(bitPattern: label))) &* prime
            if let bad = sample.withUnsafeBufferPointer({ mix(UnsafeBufferPointer(rebasing: $0.prefix(size))) }) {
                throw TrainingError.data("\(name): sample \(index) of the \(role) holds \(sample[bad]) at feature \(bad) "
                                         + "(shape \(dataset.sampleShape)); every value must be finite")
            }
            guard targetSize > 0 else { continue }
            target.withUnsafeMutableBufferPointer { dataset.copyTarget(at: index, into: $0.baseAddress!) }
            if let bad = target.withUnsafeBufferPointer({ mix(UnsafeBufferPointer(rebasing: $0.prefix(targetSize))) }) {
                throw TrainingError.data("\(name): sample \(index) of the \(role) has target \(target[bad]) at position \(bad); "
                                         + "every value must be finite")
            }
        }
        let folded = (lanes.0 ^ (lanes.1 &* 31) ^ (lanes.2 &* 961) ^ (lanes.3 &* 29_791)) ^ UInt64(dataset.count)
        checksum = String(folded, radix: 16)
    }
}
