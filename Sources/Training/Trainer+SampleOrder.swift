import DataLoading

/// Which order the run draws its samples in (`SampleOrder.Scheme`), and the
/// parts that depend on it: the validation split and the batch sampler.
///
/// A new run uses the keyed bijection, which needs no N-sized array. A
/// checkpoint records its scheme (`/extra@sample_order`); one made before
/// the scheme existed carries none and was drawn with the older N-sized
/// permutation, so resuming it switches to that order (`adopt(_:)`) and
/// continues exactly as the interrupted run would have.
extension Trainer {
    /// The checkpoint attribute naming the scheme.
    static let sampleOrderKey = "sample_order"

    /// The order a checkpoint's run drew its samples in: its
    /// `sample_order`, the older permutation when it has none, or nil when
    /// it names a scheme this program does not know (a newer version's).
    static func sampleOrderScheme(ofCheckpointExtras extra: [String: String]) -> SampleOrder.Scheme? {
        guard let name = extra[sampleOrderKey] else { return .drawnPermutation }
        return SampleOrder.Scheme(rawValue: name)
    }

    /// `train` less `options.validationFraction` of it, and that part (nil
    /// without a split), drawn by `scheme`.
    static func split(_ train: any Dataset, _ options: TrainingOptions,
                      scheme: SampleOrder.Scheme) throws -> (train: any Dataset, validation: (any Dataset)?) {
        guard options.validationFraction > 0 else { return (train, nil) }
        let split = try ValidationSplit.split(train, fraction: options.validationFraction, seed: options.seed, scheme: scheme)
        return (split.train, split.validation)
    }

    /// The training sampler of `count` samples for this rank.
    static func sampler(_ count: Int, _ options: TrainingOptions, rank: Int, worldSize: Int,
                        scheme: SampleOrder.Scheme) throws -> DistributedBatchSampler {
        do {
            return try DistributedBatchSampler(count: count, globalBatchSize: options.batchSize, rank: rank,
                                               worldSize: worldSize, seed: options.seed, shuffle: options.shuffle,
                                               dropLast: true, scheme: scheme)
        } catch {
            throw TrainingError.invalidOption(.batchSize, "\(error)")
        }
    }

    /// Draws the samples in `scheme`'s order from now on: the validation
    /// split and the sampler made again (the sizes do not change).
    func adopt(_ scheme: SampleOrder.Scheme) throws {
        guard scheme != sampler.scheme else { return }
        (trainSet, validationSet) = try Self.split(givenTrainSet, options, scheme: scheme)
        sampler = try Self.sampler(trainSet.count, options, rank: rank, worldSize: worldSize, scheme: scheme)
    }
}
