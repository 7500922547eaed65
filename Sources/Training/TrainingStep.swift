import Collective
import DataLoading
import DataParallel
import Foundation
import NN
import Optim
import TensorCore

/// One optimizer step of data-parallel training: forward and loss on this
/// rank's shard of the global batch, backward with gradients averaged across
/// ranks as they are produced, then the optimizer update. The trainer and
/// the benchmark both run it, so what is measured is what trains.
///
/// In deterministic mode (a `MicroBatchPlan`) the shard runs as fixed-size
/// micro-batches whose gradients `TreeGradientReducer` adds in a fixed order,
/// so the step is bitwise the same at every supported world size; otherwise
/// the shard runs as one batch and `GradientSynchronizer` averages with
/// MPI_Allreduce (faster where the shard is large, last bits world-size dependent).
///
/// With `shards` (a sharded optimizer, ZeRO stage 1: the optimizer updates
/// and keeps state for this rank's run of the flat buffer only), every rank
/// gets the others' updated runs afterwards (`ParameterSharing`); in the
/// default mode the gradients are then reduce-scattered rather than
/// allreduced (except under gradient clipping, whose norm needs every sum):
/// through shared memory when all ranks are on one machine
/// (`SharedMemoryReducer`), else by messages. The update is elementwise, so
/// sharding changes no bit of the result.
public final class TrainingStep {
    public let model: any Module
    public let parameters: ParameterSet
    public let optimizer: any Optimizer
    /// The training loss (a mean over the batch).
    public let loss: Loss
    /// The micro-batches of deterministic mode; nil in the default mode.
    public let plan: MicroBatchPlan?
    /// Default mode: forward/backward passes per step on this rank (gradient
    /// accumulation); the rank's shard is cut into this many micro-batches.
    public let accumulate: Int
    /// Clip the averaged gradient to this 2-norm before the update.
    public let clipGradientNorm: Double?
    /// The gradient's 2-norm before clipping, at the last step (nil without clipping).
    public private(set) var lastGradientNorm: Double?
    /// Keys Dropout's masks (with the epoch and the sample indices).
    private let seed: UInt64
    /// SyncBatchNorm: sums BatchNorm's statistics across ranks (nil: local statistics).
    private let statisticsReducer: StatisticsReducer?
    private let rank: Int
    private let worldSize: Int
    /// Sums the gradients across ranks, or over the micro-batches of
    /// deterministic mode (nil: one process in the default mode, whose
    /// gradients are already the sums).
    private let reducer: (any GradientReduction)?
    /// The sharded optimizer's runs (nil: every rank updates everything).
    let shards: OptimizerShards?
    /// How the ranks get each other's updated runs.
    private let sharing: ParameterSharing
    private let communicator: Communicator?
    /// Seconds spent in the optimizer update and in the parameter allgather, summed over steps.
    public private(set) var updateSeconds = 0.0
    public private(set) var gatherSeconds = 0.0

    /// `communicator` of size > 1 enables gradient averaging in buckets of
    /// `bucketBytes`; `plan` selects the deterministic reduction; `shards`,
    /// with an optimizer over `shards.runs[rank]`, the sharded update, and
    /// `sharedMemory` its shared-memory form where the ranks share a machine
    /// (which moves `parameters` into shared memory). Collective.
    package init(model: any Module, parameters: ParameterSet, optimizer: any Optimizer, loss: Loss,
         communicator: Communicator?, bucketBytes: Int, plan: MicroBatchPlan? = nil, accumulate: Int = 1,
         clipGradientNorm: Double? = nil, seed: UInt64 = 0, shards: OptimizerShards? = nil,
         sharedMemory: Bool = true) throws {
        self.model = model
        self.parameters = parameters
        self.optimizer = optimizer
        self.loss = loss
        self.plan = plan
        self.accumulate = accumulate
        self.clipGradientNorm = clipGradientNorm
        self.seed = seed
        // Deterministic mode normalises each micro-batch by its own statistics
        // (the Trainer refuses models with buffers there); otherwise BatchNorm
        // sees the whole global batch, as PyTorch's SyncBatchNorm does.
        if plan == nil, let communicator, communicator.size > 1 {
            statisticsReducer = { values in
                do { try communicator.allreduceSum(&values) } catch { Trainer.endJob(communicator, error) }
            }
        } else {
            statisticsReducer = nil
        }
        rank = communicator?.rank ?? 0
        worldSize = communicator?.size ?? 1
        self.communicator = communicator
        let (rank, worldSize) = (rank, worldSize)
        let shards = worldSize > 1 ? shards : nil
        precondition(shards.map { $0.worldSize == worldSize && $0.runs[rank] == optimizer.shard } ?? (optimizer.shard == 0..<parameters.count),
                     "the optimizer's shard \(optimizer.shard) is not this rank's run of \(String(describing: shards))")
        self.shards = shards
        // The reducer, and how the sharded update reaches every rank.
        let reducer: (any GradientReduction)?
        var sharing = ParameterSharing.none
        if let shards, let communicator { sharing = .allgather(communicator, shards) }
        // Clipping needs the norm of every sum, so it keeps the allreduce.
        let machine = if let communicator, shards != nil, clipGradientNorm == nil, sharedMemory, parameters.count > 0 {
            try Self.machine(of: communicator, treeAligned: plan != nil)
        } else {
            Communicator?.none
        }
        if let plan {
            // The tree's cross-rank levels through shared memory: the
            // machines hold aligned blocks of ranks, so a machine's sum is
            // one of the tree's nodes and the sum over machines the rest.
            var shared: SharedMemoryReducer?
            if let machine, let communicator, let shards {
                shared = try SharedMemoryReducer(world: communicator, machine: machine, parameters: parameters, shards: shards)
                sharing = .sharedMemory(shared!)
            }
            reducer = TreeGradientReducer(parameters: parameters, plan: plan, communicator: communicator, bucketBytes: bucketBytes,
                                          acrossRanks: shared)
        } else if let communicator, communicator.size > 1 {
            if let shards, clipGradientNorm == nil {
                if let machine {
                    let shared = try SharedMemoryReducer(world: communicator, machine: machine, parameters: parameters,
                                                         shards: shards)
                    reducer = shared
                    sharing = .sharedMemory(shared)
                } else {
                    reducer = ShardedGradientReducer(communicator: communicator, parameters: parameters, shards: shards,
                                                     bucketBytes: bucketBytes)
                }
            } else {
                reducer = GradientSynchronizer(communicator: communicator, parameters: parameters, bucketBytes: bucketBytes)
            }
        } else {
            reducer = nil
        }
        self.reducer = reducer
        self.sharing = sharing
        // The reducer leaves sums; the optimizer turns them into the mean as
        // it reads them. Set here, the one place that owns the step, so that
        // any optimizer, the user's own included, is configured alike.
        optimizer.gradientScale = reducer?.meanScale ?? 1
    }

    /// This rank's machine's ranks of `world`, when the shared-memory
    /// reduction can use them: every machine runs the same number of ranks,
    /// more than one (the hierarchy's groups line up). With `treeAligned`
    /// (deterministic mode), also a power of two of consecutive world ranks
    /// starting at a multiple of that number, as mpirun places them by
    /// default: each machine is then a subtree of the fixed tree. Collective.
    private static func machine(of world: Communicator, treeAligned: Bool) throws -> Communicator? {
        let machine = try world.sharingMemory()
        let size = Int64(machine.size), first = -(try machine.allreduceMax(-Int64(world.rank)))
        let last = try machine.allreduceMax(Int64(world.rank))
        let aligned = size & (size - 1) == 0 && first % size == 0 && last == first + size - 1
        var figures = [size, -size, aligned ? 0 : 1]
        try world.allreduceMax(&figures)
        let uniform = figures[0] == -figures[1] && size > 1
        return uniform && (!treeAligned || figures[2] == 0) ? machine : nil
    }

    /// How the gradients travel between ranks, for the run's log (nil: one process).
    public var reductionSummary: String? { reducer?.summary }

    /// Seconds spent waiting for the other ranks' gradients so far.
    public var allreduceWaitSeconds: Double { reducer?.waitSeconds ?? 0 }
    /// Bytes this rank handed to MPI or MPI wrote into its buffers, for the
    /// gradients and the parameters, summed over steps.
    public var transportBytes: Int { (reducer?.transportBytes ?? 0) + gatherBytes }
    /// Bytes of other ranks' gradients read in place in shared memory, summed over steps.
    public var peerReadBytes: Int { reducer?.peerReadBytes ?? 0 }
    private var gatherBytes = 0
    /// Seconds spent waiting for the steps' agreements (after the update), summed over steps.
    public private(set) var agreementSeconds = 0.0

    /// Runs the step on `batch` and returns what all ranks agree on: the
    /// global batch's loss and any rank's stop signal (`stopSignal` is read
    /// once the loss is known, before backward). `position` names the step
    /// in the error if the loss or the gradient is not finite.
    public func callAsFunction(_ batch: Batch, position: (epoch: Int, step: Int),
                               stopSignal: () -> Int32? = { nil }) throws -> StepAgreement {
        let input = Tensor(shape: batch.shape, values: batch.inputs)
        let agreement: StepAgreement.Pending
        if let plan, let reducer {
            agreement = try microBatchStep(input, batch: batch, plan: plan, reducer: reducer, position: position, stopSignal: stopSignal)
        } else {
            agreement = try defaultStep(input, batch: batch, position: position, stopSignal: stopSignal)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { agreementSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try agreement.wait()
    }

    /// The default mode's step: the shard as one batch (or `accumulate`
    /// micro-batches adding into one buffer), its gradients summed by `reducer`.
    private func defaultStep(_ input: Tensor, batch: Batch, position: (epoch: Int, step: Int),
                             stopSignal: () -> Int32?) throws -> StepAgreement.Pending {
        var agreement: StepAgreement.Pending?
        parameters.zeroGrad()
        // K micro-batches of sizes differing by at most one; each loss (a mean)
        // is weighted by its share of the shard, so the gradients add up to the
        // gradient of the shard's mean. The reduction starts during the last
        // backward, when the gradients are complete.
        let n = batch.count, k = min(accumulate, n)
        var lossSum = 0.0
        for i in 0..<k {
            try reducer?.beginMicroBatch(i)
            let range = (i * n / k)..<((i + 1) * n / k)
            let (micro, targets) = slice(input, batch: batch, range)
            let loss = try finiteLoss(micro, targets, indices: Array(batch.indices[range]), epoch: batch.epoch, position: position)
            lossSum += Double(loss.item()) * Double(range.count)
            let seed = k == 1 ? nil : Tensor(shape: loss.shape, values: [Float(range.count) / Float(n)])
            if i + 1 < k {
                loss.backward(gradient: seed)
                continue
            }
            agreement = try StepAgreement.start(StepLoss(partSums: [lossSum], firstPart: rank, totalParts: worldSize, samples: n),
                                                stopSignal: stopSignal(), communicator: communicator)
            if let reducer {
                try backward(loss, gradient: seed) { try reducer.gradientReady($0) }
            } else {
                loss.backward(gradient: seed)
            }
        }
        try reducer?.finish()
        try update(position: position)
        return agreement!
    }

    /// Samples `range` of `batch`: a view of `input` and the matching targets.
    private func slice(_ input: Tensor, batch: Batch, _ range: Range<Int>) -> (Tensor, BatchTargets) {
        let sampleShape = Array(input.shape.dropFirst())
        let sampleSize = sampleShape.reduce(1, *), targetSize = batch.targetShape.reduce(1, *)
        if range == 0..<batch.count {
            return (input, Objective.targets(input, labels: batch.labels, targets: batch.targets, targetShape: batch.targetShape))
        }
        let micro = Tensor(shape: [range.count] + sampleShape, storage: input.storage, offset: range.lowerBound * sampleSize)
        let targets = Objective.targets(
            micro, labels: Array(batch.labels[range]),
            targets: batch.targetShape.isEmpty ? [] : Array(batch.targets[range.lowerBound * targetSize..<range.upperBound * targetSize]),
            targetShape: batch.targetShape)
        return (micro, targets)
    }

    /// The deterministic step: this rank's micro-batches one after another,
    /// each a view of `input` with the same shape on every rank.
    private func microBatchStep(_ input: Tensor, batch: Batch, plan: MicroBatchPlan, reducer: any GradientReduction,
                                position: (epoch: Int, step: Int), stopSignal: () -> Int32?) throws -> StepAgreement.Pending {
        let size = plan.microBatchSize
        precondition(input.shape[0] == size * plan.localMicroBatches,
                     "deterministic step needs \(size * plan.localMicroBatches) samples on this rank, got \(input.shape[0])")
        var sums: [Double] = []
        var agreement: StepAgreement.Pending?
        // An error mid-step (a NaN loss) must not leave backward aimed at a micro-batch buffer.
        defer { parameters.redirectGradients(to: parameters.gradients) }
        for i in 0..<plan.localMicroBatches {
            try reducer.beginMicroBatch(i)
            let range = i * size..<(i + 1) * size
            let (micro, targets) = slice(input, batch: batch, range)
            let loss = try finiteLoss(micro, targets, indices: Array(batch.indices[range]), epoch: batch.epoch, position: position)
            sums.append(Double(loss.item()) * Double(size))
            if i + 1 < plan.localMicroBatches {
                loss.backward()
            } else {
                agreement = try StepAgreement.start(StepLoss(partSums: sums, firstPart: plan.firstMicroBatch,
                                                             totalParts: plan.microBatches, samples: size * plan.localMicroBatches),
                                                    stopSignal: stopSignal(), communicator: communicator)
                try backward(loss) { try reducer.gradientReady($0) }
            }
        }
        try reducer.finish()
        try update(position: position)
        return agreement!
    }

    /// The loss on `input`, or the error naming the step if it is not finite.
    /// The forward pass runs in a `ForwardContext` naming the samples, so
    /// Dropout draws each sample's mask from (seed, epoch, sample index,
    /// layer) whichever rank and step it lands in.
    private func finiteLoss(_ input: Tensor, _ targets: BatchTargets, indices: [Int], epoch: Int,
                            position: (epoch: Int, step: Int)) throws -> Tensor {
        let context = ForwardContext(seed: seed, epoch: epoch, sampleIndices: indices, statisticsReducer: statisticsReducer)
        let loss = self.loss(context.run { model(input) }, targets)
        precondition(loss.count == 1, "the loss \(self.loss.name) must return a scalar (the mean over the batch), got shape \(loss.shape)")
        let value = loss.item()
        guard value.isFinite else {
            throw TrainingError.nonFiniteLoss(epoch: position.epoch, step: position.step, value: value)
        }
        return loss
    }

    /// Backward from `loss`, handing each finished parameter to `ready`;
    /// rethrows the first error `ready` threw.
    private func backward(_ loss: Tensor, gradient: Tensor? = nil, ready: (Tensor) throws -> Void) throws {
        var failure: (any Error)?
        withoutActuallyEscaping(ready) { ready in
            loss.backward(gradient: gradient) { tensor in
                do { try ready(tensor) } catch { failure = failure ?? error }
            }
        }
        if let failure { throw failure }
    }

    /// The optimizer update, after the check that the reduced gradients are
    /// finite; then, when sharded, the allgather of the parameters.
    private func update(position: (epoch: Int, step: Int)) throws {
        if reducer?.reducesOwnRunOnly ?? false {
            // Only this rank has seen its run's sums. It stops the job on its
            // own, as a rank whose loss is not finite does: the trainer ends
            // every rank with this rank's error (`Trainer.endJob`).
            guard parameters.gradients.allFinite(in: optimizer.shard) else {
                throw TrainingError.nonFiniteGradient(epoch: position.epoch, step: position.step)
            }
        } else {
            // After the reduction every rank holds the same sums, so all ranks
            // agree on this check and stop at the same step.
            guard parameters.gradients.allFinite else {
                throw TrainingError.nonFiniteGradient(epoch: position.epoch, step: position.step)
            }
            // On the reduced gradient, identical on every rank: all clip alike.
            if let clipGradientNorm { lastGradientNorm = optimizer.clipGradientNorm(maxNorm: clipGradientNorm) }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        optimizer.step()
        let updated = DispatchTime.now().uptimeNanoseconds
        switch sharing {
        case .none: break
        case let .allgather(communicator, shards):
            try communicator.allgather(parameters.values.buffer, runs: shards.runs)
            // Its own run handed over, every other run written in.
            gatherBytes += parameters.count * MemoryLayout<Float>.stride
        case let .sharedMemory(reducer): try reducer.shareParameters()
        }
        let gathered = DispatchTime.now().uptimeNanoseconds
        updateSeconds += Double(updated - start) / 1e9
        gatherSeconds += Double(gathered - updated) / 1e9
    }
}

/// How the ranks of a sharded optimizer get each other's updated runs of
/// the parameters after the update.
enum ParameterSharing {
    /// Not sharded: every rank updated every parameter.
    case none
    /// Each rank's run copied to every rank (MPI_Allgatherv).
    case allgather(Communicator, OptimizerShards)
    /// One copy of the parameters in the machine's shared memory: wait until
    /// every rank has written its run.
    case sharedMemory(SharedMemoryReducer)
}
