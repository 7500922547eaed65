import Checkpoint
import DataLoading

/// Where a run stands between two steps: everything exact resumption needs
/// besides the tensors (parameters, buffers, optimizer moments) and the
/// run's settings.
///
/// One value has three uses, so that they cannot drift apart: the trainer
/// advances it step by step, a checkpoint stores it (its position fields
/// and `/extra` attributes, in the format older builds read), and on resume
/// rank 0 reads it back, checks it and broadcasts it to every rank.
package struct RunState: Codable, Equatable {
    /// 0-based epoch of the next step.
    package var epoch = 0
    /// Steps already done in that epoch.
    package var iteration = 0
    /// Optimizer steps taken in the whole run.
    package var globalStep = 0
    /// This epoch's summed training loss and sample count so far (all ranks).
    package var epochLossSum = 0.0
    package var epochSamples = 0.0
    /// This epoch's summed gradient norms and their count so far (`--clip-grad-norm`).
    package var gradientNormSum = 0.0
    package var gradientNormSteps = 0
    /// `--keep-best` and `--early-stop`'s record.
    package var best = BestSoFar()
    /// The micro-batches per global batch of a `--deterministic` run (nil otherwise).
    package var microBatches: Int?
    /// The order the run draws its samples in.
    package var sampleOrder = SampleOrder.Scheme.keyedBijection

    package init() {}

    /// Records one finished step: its share of the epoch's loss and, when
    /// measured, its gradient norm.
    package mutating func finishStep(lossSum: Double, samples: Int, gradientNorm: Double?) {
        globalStep += 1
        iteration += 1
        epochLossSum += lossSum
        epochSamples += Double(samples)
        if let gradientNorm {
            gradientNormSum += gradientNorm
            gradientNormSteps += 1
        }
    }

    /// Moves to the start of the next epoch: its sums start again.
    package mutating func finishEpoch() {
        epoch += 1
        iteration = 0
        epochLossSum = 0
        epochSamples = 0
        gradientNormSum = 0
        gradientNormSteps = 0
    }

    /// The run state a checkpoint holds. Absent records read as a fresh
    /// epoch's (files written before they existed); `recordProblems` has
    /// refused unreadable ones before this is called.
    package init(checkpoint state: TrainingState) {
        let extra = state.extra
        epoch = state.epoch
        iteration = state.iteration
        globalStep = state.globalStep
        epochLossSum = extra[Self.epochLossSumKey].flatMap(Double.init) ?? 0
        epochSamples = extra[Self.epochSamplesKey].flatMap(Double.init) ?? 0
        gradientNormSum = extra[Self.gradientNormSumKey].flatMap(UInt64.init).map(Double.init(bitPattern:)) ?? 0
        gradientNormSteps = extra[Self.gradientNormStepsKey].flatMap(Int.init) ?? 0
        best = BestSoFar(extras: extra)
        microBatches = extra["deterministic"] == "true" ? extra["micro_batches"].flatMap(Int.init) : nil
        sampleOrder = Trainer.sampleOrderScheme(ofCheckpointExtras: extra) ?? .keyedBijection
    }

    /// The `/extra` attributes this state owns (the position's fields are
    /// the checkpoint's own); exact: the loss sum as Swift's shortest
    /// round-trip text, the other sums as their bits.
    package func extras(keepBest metric: MonitoredMetric?) -> [String: String] {
        var extra = [Self.epochLossSumKey: String(epochLossSum), Self.epochSamplesKey: String(epochSamples),
                     Self.gradientNormSumKey: String(gradientNormSum.bitPattern),
                     Self.gradientNormStepsKey: String(gradientNormSteps),
                     Trainer.sampleOrderKey: sampleOrder.rawValue]
        if let microBatches { extra["micro_batches"] = String(microBatches) }
        extra.merge(best.extras(metric: metric)) { $1 }
        return extra
    }

    static let epochLossSumKey = "epoch_loss_sum"
    static let epochSamplesKey = "epoch_samples"
    static let gradientNormSumKey = "gradient_norm_sum"
    static let gradientNormStepsKey = "gradient_norm_steps"

    /// Exact over the wire as well: the sums travel as their bits (JSON's
    /// numbers need not round-trip every Double).
    private enum CodingKeys: String, CodingKey {
        case epoch, iteration, globalStep, epochLossSumBits, epochSamplesBits, gradientNormSumBits, gradientNormSteps
        case bestValueBits, bestEpoch, epochsWithoutImprovement, microBatches, sampleOrder
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(iteration, forKey: .iteration)
        try c.encode(globalStep, forKey: .globalStep)
        try c.encode(epochLossSum.bitPattern, forKey: .epochLossSumBits)
        try c.encode(epochSamples.bitPattern, forKey: .epochSamplesBits)
        try c.encode(gradientNormSum.bitPattern, forKey: .gradientNormSumBits)
        try c.encode(gradientNormSteps, forKey: .gradientNormSteps)
        try c.encodeIfPresent(best.value?.bitPattern, forKey: .bestValueBits)
        try c.encode(best.epoch, forKey: .bestEpoch)
        try c.encode(best.epochsWithoutImprovement, forKey: .epochsWithoutImprovement)
        try c.encodeIfPresent(microBatches, forKey: .microBatches)
        try c.encode(sampleOrder, forKey: .sampleOrder)
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch)
        iteration = try c.decode(Int.self, forKey: .iteration)
        globalStep = try c.decode(Int.self, forKey: .globalStep)
        epochLossSum = Double(bitPattern: try c.decode(UInt64.self, forKey: .epochLossSumBits))
        epochSamples = Double(bitPattern: try c.decode(UInt64.self, forKey: .epochSamplesBits))
        gradientNormSum = Double(bitPattern: try c.decode(UInt64.self, forKey: .gradientNormSumBits))
        gradientNormSteps = try c.decode(Int.self, forKey: .gradientNormSteps)
        best.value = try c.decodeIfPresent(UInt64.self, forKey: .bestValueBits).map(Double.init(bitPattern:))
        best.epoch = try c.decode(Int.self, forKey: .bestEpoch)
        best.epochsWithoutImprovement = try c.decode(Int.self, forKey: .epochsWithoutImprovement)
        microBatches = try c.decodeIfPresent(Int.self, forKey: .microBatches)
        sampleOrder = try c.decode(SampleOrder.Scheme.self, forKey: .sampleOrder)
    }
}
