import DataLoading
import TensorCore

/// `--val-fraction`: the part of a training set held out for validation,
/// drawn from the seed alone, so every rank and every world size (and a
/// resumed run) holds out the same samples.
enum ValidationSplit {
    /// The generator stream of the draw, apart from initialisation's and shuffling's.
    static let stream: UInt64 = 0x7661_6c69_6461_7465  // "validate"

    /// `fraction` of `data` (rounded up) for validation, the rest for
    /// training: the first positions of a permutation drawn by `scheme`
    /// and the others. The keyed scheme keeps each part in the
    /// permutation's order, in constant memory; the drawn one (checkpoints
    /// made before 2026-12-03) sorts each part into the data set's order,
    /// as it always did.
    static func split(_ data: any Dataset, fraction: Double, seed: UInt64,
                      scheme: SampleOrder.Scheme) throws -> (train: Subset, validation: Subset) {
        let n = data.count
        let held = Int((Double(n) * fraction).rounded(.up))
        guard held >= 1 && held < n else {
            throw TrainingError.invalidOption(.validationFraction, "\(fraction) of \(n) training samples leaves no validation or no training samples")
        }
        var generator = RandomGenerator(seed: seed, stream: stream)
        let order = SampleOrder(shuffling: n, by: scheme, using: &generator)
        switch scheme {
        case .keyedBijection:
            return (Subset(data, order: order[held..<n]), Subset(data, order: order[0..<held]))
        case .drawnPermutation:
            return (Subset(data, indices: order[held...].sorted()), Subset(data, indices: order[..<held].sorted()))
        }
    }
}
