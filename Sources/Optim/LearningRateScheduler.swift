/// Drives an optimizer's learning rate by a `LearningRateSchedule`, like a
/// torch.optim.lr_scheduler object with one parameter group.
///
/// As in torch, construction counts as the first step: `lastEpoch` is 0
/// and `currentLearningRate` is the schedule's value at 0 (LinearLR's
/// `start_factor * base`, for instance); each `step()` advances the counter
/// by one. The learning rate is recomputed from (base, lastEpoch) every time,
/// so the state a checkpoint stores is just those two and the schedule.
public struct LearningRateScheduler: Equatable, Sendable {
    public let schedule: LearningRateSchedule
    /// torch's `base_lrs[0]` (its `initial_lr`): the learning rate the schedule scales.
    public let baseLearningRate: Double
    /// torch's `last_epoch`: the number of `step()` calls since construction.
    public private(set) var lastEpoch: Int

    /// A scheduler at `lastEpoch` (0: just constructed; n: after n `step()`
    /// calls, without making them); throws unless `baseLearningRate` is
    /// finite and non-negative and `lastEpoch` is not negative.
    public init(_ schedule: LearningRateSchedule, baseLearningRate: Double, lastEpoch: Int = 0) throws {
        guard baseLearningRate >= 0 && baseLearningRate.isFinite else {
            throw LearningRateScheduleError.invalidParameter(schedule: schedule.torchName, name: "base learning rate",
                                                             value: "\(baseLearningRate)",
                                                             requirement: "non-negative and finite")
        }
        guard lastEpoch >= 0 else {
            throw LearningRateScheduleError.invalidParameter(schedule: schedule.torchName, name: "last epoch",
                                                             value: "\(lastEpoch)", requirement: "not negative")
        }
        self.schedule = schedule
        self.baseLearningRate = baseLearningRate
        self.lastEpoch = lastEpoch
    }

    /// A scheduler whose base is the optimizer's learning rate now, which it
    /// then sets to the epoch-0 value, as torch's constructor does. Make it
    /// before anything else changes that learning rate.
    public init(_ schedule: LearningRateSchedule, optimizer: any Optimizer) throws {
        try self.init(schedule, baseLearningRate: Double(optimizer.learningRate))
        apply(to: optimizer)
    }

    /// The learning rate at `lastEpoch` (torch's `get_last_lr()[0]`).
    public var currentLearningRate: Double { schedule.learningRate(base: baseLearningRate, epoch: lastEpoch) }

    /// Advances one epoch (or iteration: whatever the caller steps by).
    public mutating func step() { lastEpoch += 1 }

    /// Sets the optimizer's learning rate to `currentLearningRate`.
    public func apply(to optimizer: any Optimizer) { optimizer.learningRate = Float(currentLearningRate) }

    /// The state to save, under torch's state_dict keys (see `LearningRateSchedulerState`).
    public var state: LearningRateSchedulerState {
        let own = schedule.state
        var scalars = own.scalars
        scalars["last_epoch"] = Double(lastEpoch)
        scalars["_step_count"] = Double(lastEpoch + 1)  // torch counts the step in the constructor
        var lists = own.lists
        lists["base_lrs"] = [baseLearningRate]
        lists["_last_lr"] = [currentLearningRate]
        return LearningRateSchedulerState(typeName: schedule.typeName, scalars: scalars, lists: lists)
    }

    /// The scheduler `state` was saved from. Throws on an unknown type, a
    /// missing, unexpected or malformed key, inconsistent counters, or, when
    /// `schedule` or `baseLearningRate` is given (what this run configures),
    /// on a difference from it, naming the first key that differs.
    ///
    /// `_last_lr` is checked against the learning rate recomputed from
    /// `base_lrs` and `last_epoch` to 1e-9 relative (another C library's cos
    /// may round differently); the recomputed one is used.
    public init(state: LearningRateSchedulerState, expecting schedule: LearningRateSchedule? = nil,
                baseLearningRate expectedBase: Double? = nil) throws {
        if let schedule {
            try Self.requireSame(saved: state, configured: schedule)
        }
        let saved = try LearningRateSchedule(state: state)
        let base = try state.single("base_lrs")
        if let expectedBase, base != expectedBase {
            throw LearningRateScheduleError.mismatch(key: "base_lrs", saved: "[\(base)]", configured: "[\(expectedBase)]")
        }
        try self.init(saved, baseLearningRate: base)
        let epoch = try state.integer("last_epoch")
        guard epoch >= 0 else { throw LearningRateScheduleError.invalidState(key: "last_epoch", reason: "is negative (\(epoch))") }
        lastEpoch = epoch
        let stepCount = try state.integer("_step_count")
        guard stepCount == epoch + 1 else {
            throw LearningRateScheduleError.invalidState(key: "_step_count",
                                                         reason: "is \(stepCount), not last_epoch + 1 = \(epoch + 1)")
        }
        let lastLearningRate = try state.single("_last_lr")
        let recomputed = currentLearningRate
        guard abs(lastLearningRate - recomputed) <= 1e-9 * max(abs(recomputed), abs(base)) else {
            throw LearningRateScheduleError.invalidState(
                key: "_last_lr", reason: "is \(lastLearningRate), but the schedule gives \(recomputed) at epoch \(epoch)")
        }
    }

    /// Throws `mismatch` naming the first key (type first) whose saved value
    /// differs from the configured schedule's.
    private static func requireSame(saved: LearningRateSchedulerState, configured: LearningRateSchedule) throws {
        guard saved.typeName == configured.typeName else {
            throw LearningRateScheduleError.mismatch(key: "schedule type", saved: saved.typeName,
                                                     configured: configured.typeName)
        }
        let expected = configured.state
        for (key, value) in expected.scalars.sorted(by: { $0.key < $1.key }) where saved.scalars[key] != value {
            throw LearningRateScheduleError.mismatch(key: key, saved: saved.scalars[key].map { "\($0)" } ?? "absent",
                                                     configured: "\(value)")
        }
        for (key, value) in expected.lists.sorted(by: { $0.key < $1.key }) where saved.lists[key] != value {
            throw LearningRateScheduleError.mismatch(key: key, saved: saved.lists[key].map { "\($0)" } ?? "absent",
                                                     configured: "\(value)")
        }
    }
}
