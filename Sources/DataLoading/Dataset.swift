/// A fixed-size, random-access collection of samples, PyTorch's map-style
/// `Dataset`.
///
/// Samples are written straight into a caller's buffer instead of being
/// returned as arrays, so a `DataLoader` assembles a batch with one allocation
/// and no per-sample copies. Conformers must be immutable (`Sendable`) because
/// a background thread reads them while the training loop runs.
public protocol Dataset: Sendable {
    /// Number of samples; valid indices are `0..<count`.
    var count: Int { get }
    /// Shape of one sample's features, e.g. `[1, 28, 28]` (channels, height,
    /// width) for MNIST. A batch has shape `[b] + sampleShape`.
    var sampleShape: [Int] { get }
    /// Human-readable class names indexed by label; empty when unknown.
    var classNames: [String] { get }
    /// Writes sample `index`'s features as `sampleShape.reduce(1, *)` Floats
    /// starting at `destination` and returns its label, or -1 if it has none.
    func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32
    /// Shape of one sample's float target, e.g. `[1]` for least squares;
    /// `[]` (the default) when the target is the label, or nothing (an
    /// auto-encoder reconstructs its input).
    var targetShape: [Int] { get }
    /// Writes sample `index`'s target as `targetShape.reduce(1, *)` Floats
    /// starting at `destination`; never called when `targetShape` is `[]`.
    func copyTarget(at index: Int, into destination: UnsafeMutablePointer<Float>)
    /// The first read of this data set that failed, or nil (the default).
    ///
    /// `copySample` cannot throw, and a data set that reads from storage
    /// can fail after it was opened (a file truncated or unreadable while a
    /// run trains, a value that is not finite). Such a data set writes NaN
    /// in place of what it could not read and records its first failure
    /// here; whoever assembles batches checks it after each one and throws
    /// it (the trainer does before every step, and after each evaluation).
    var readFailure: DataError? { get }

    /// What this data set's values are read from, when that is files alone
    /// whose identities are known (file, dataset, rows, conversion), or nil
    /// (the default). The trainer remembers the checksum of a data set's
    /// values under it, so a run over unchanged files does not read them
    /// all again to check them.
    var contentKey: String? { get }
}

extension Dataset {
    public var targetShape: [Int] { [] }

    public func copyTarget(at index: Int, into destination: UnsafeMutablePointer<Float>) {}

    /// In memory, nothing can fail to read.
    public var readFailure: DataError? { nil }

    /// Not read from files: nothing to remember.
    public var contentKey: String? { nil }

    /// Number of Floats in one sample: the product of `sampleShape`.
    public var sampleSize: Int { sampleShape.reduce(1, *) }

    /// Number of Floats in one sample's target (0 without a float target).
    public var targetSize: Int { targetShape.isEmpty ? 0 : targetShape.reduce(1, *) }

    /// One sample as a fresh array, for inspection and tests; training goes
    /// through `DataLoader`, which avoids the allocation.
    public subscript(index: Int) -> (input: [Float], label: Int32) {
        let size = sampleSize
        var label: Int32 = -1
        // Capacity at least 1 so there is always a pointer to pass, even for a
        // data set of labels only.
        let input = [Float](unsafeUninitializedCapacity: max(size, 1)) { buffer, initialized in
            label = copySample(at: index, into: buffer.baseAddress!)
            initialized = size
        }
        return (input, label)
    }
}
