import DataLoading
import TensorCore

/// `--val-fraction`: the part of a training set held out for validation,
/// drawn from the seed alone, so every rank and every world size (and a
/// resumed run) holds out the same samples.
enum ValidationSplit {
    /// The generator stream of the draw, apart from initialisation's and shuffling's.
    static let stream: UInt64 = 0x7661_6c69_6461_7465  // "validate"

    /// `fraction` of `data` (rounded up) for validation, the rest for
    /// training, each in the data set's order.
    static func split(_ data: any Dataset, fraction: Double, seed: UInt64) throws -> (train: Subset, validation: Subset) {
        let n = data.count
        let held = Int((Double(n) * fraction).rounded(.up))
        guard held >= 1 && held < n else {
            throw TrainingError.invalidOption("--val-fraction", "\(fraction) of \(n) training samples leaves no validation or no training samples")
        }
        var generator = RandomGenerator(seed: seed, stream: stream)
        let order = generator.permutation(n)
        return (Subset(data, indices: order[held...].sorted()), Subset(data, indices: order[..<held].sorted()))
    }
}
