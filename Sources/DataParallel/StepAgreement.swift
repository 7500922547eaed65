import Collective

/// This rank's share of one step's loss, in parts whose place in the global
/// batch is fixed, so that the trainer can add all ranks' parts in one order
/// (`StepAgreement`) and get the same epoch loss whoever computed what.
package struct StepLoss: Sendable {
    /// Loss summed over the samples of each of this rank's parts: one part per
    /// micro-batch in deterministic mode, else the rank's whole shard.
    package var partSums: [Double]
    /// The global index of this rank's first part.
    package var firstPart: Int
    /// Parts in the whole global batch (all ranks).
    package var totalParts: Int
    /// Samples this rank computed.
    package var samples: Int

    package init(partSums: [Double], firstPart: Int, totalParts: Int, samples: Int) {
        self.partSums = partSums
        self.firstPart = firstPart
        self.totalParts = totalParts
        self.samples = samples
    }
}

/// What every rank agrees on at each step: the global batch's loss and
/// whether any rank received a stop signal, in one small allreduce.
///
/// Each rank writes its loss parts into their global slots and its signal
/// into its own slot; every other rank contributes +0 there, so the sum of
/// each slot is exact whatever order MPI adds in. The parts are then added
/// in slot order, on every rank alike: the loss is the same bits on every
/// rank and, in deterministic mode, at every world size.
///
/// The allreduce is non-blocking (`start`): the training step starts it
/// as soon as its last forward pass has the loss, before backward, and
/// collects it after the update, so it travels while backward and the
/// gradient reduction run instead of costing a blocking round of its own.
public struct StepAgreement: Equatable, Sendable {
    /// The loss summed over every sample of the global batch.
    public var lossSum: Double
    /// Samples in the global batch.
    public var samples: Int
    /// The signal some rank received (the highest number if several), or nil.
    public var stopSignal: Int32?

    /// Starts combining `loss` and this rank's `stopSignal` with every other
    /// rank's; `Pending.wait()` gives the agreement.
    package static func start(_ loss: StepLoss, stopSignal: Int32?, communicator: Communicator?) throws -> Pending {
        let worldSize = communicator?.size ?? 1, rank = communicator?.rank ?? 0
        let pending = Pending(parts: loss.totalParts, worldSize: worldSize)
        let slots = pending.slots
        for (i, sum) in loss.partSums.enumerated() { slots[loss.firstPart + i] = sum }
        slots[pending.parts + rank] = Double(stopSignal ?? 0)
        slots[pending.parts + worldSize] = Double(loss.samples)
        if let communicator, worldSize > 1 { pending.request = try communicator.startAllreduceSum(slots) }
        return pending
    }

    /// An agreement in flight. Its slots live at a fixed address until the
    /// allreduce completes: [parts..., one signal per rank..., samples].
    package final class Pending {
        let parts: Int
        let worldSize: Int
        let slots: UnsafeMutableBufferPointer<Double>
        fileprivate var request: CommunicationRequest?

        fileprivate init(parts: Int, worldSize: Int) {
            self.parts = parts
            self.worldSize = worldSize
            slots = .allocate(capacity: parts + worldSize + 1)
            slots.initialize(repeating: 0)
        }

        deinit {
            request = nil  // waits for a reduction still in flight before the slots go
            slots.deallocate()
        }

        /// Waits for every rank's slots and combines them.
        package func wait() throws -> StepAgreement {
            try request?.wait()
            request = nil
            var lossSum = 0.0
            for i in 0..<parts { lossSum += slots[i] }
            let signal = slots[parts..<parts + worldSize].max() ?? 0
            return StepAgreement(lossSum: lossSum, samples: Int(slots[parts + worldSize]),
                                 stopSignal: signal == 0 ? nil : Int32(signal))
        }
    }
}
