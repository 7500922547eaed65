import Collective

/// What every rank agrees on after a step, in ONE small allreduce (the one
/// collective per step besides the gradients): the global batch's loss,
/// whether any rank received a stop signal, and whether any rank's run of a
/// reduce-scattered gradient was not finite (sharded optimizer).
///
/// Each rank writes its loss parts into their global slots and its signal
/// into its own slot; every other rank contributes +0 there, so the sum of
/// each slot is exact whatever order MPI adds in. The parts are then added
/// in slot order, on every rank alike: the loss is the same bits on every
/// rank and, in deterministic mode, at every world size.
struct StepAgreement: Equatable {
    /// The loss summed over every sample of the global batch.
    var lossSum: Double
    /// Samples in the global batch.
    var samples: Int
    /// The signal some rank received (the highest number if several), or nil.
    var stopSignal: Int32?
    /// Whether some rank found NaN or infinity in its run of the gradient sums.
    var nonFiniteGradient = false

    /// Combines `loss` and this rank's `stopSignal` with every other rank's.
    static func reach(_ loss: StepLoss, stopSignal: Int32?, communicator: Communicator?) throws -> StepAgreement {
        let worldSize = communicator?.size ?? 1, rank = communicator?.rank ?? 0
        let parts = loss.totalParts
        // [parts..., one signal per rank..., samples, ranks with a non-finite run]
        var slots = [Double](repeating: 0, count: parts + worldSize + 2)
        for (i, sum) in loss.partSums.enumerated() { slots[loss.firstPart + i] = sum }
        slots[parts + rank] = Double(stopSignal ?? 0)
        slots[parts + worldSize] = Double(loss.samples)
        slots[parts + worldSize + 1] = loss.nonFiniteGradient ? 1 : 0
        if let communicator, worldSize > 1 { try communicator.allreduceSum(&slots) }
        var lossSum = 0.0
        for i in 0..<parts { lossSum += slots[i] }
        let signal = slots[parts..<parts + worldSize].max() ?? 0
        return StepAgreement(lossSum: lossSum, samples: Int(slots[parts + worldSize]),
                             stopSignal: signal == 0 ? nil : Int32(signal), nonFiniteGradient: slots[parts + worldSize + 1] > 0)
    }
}
