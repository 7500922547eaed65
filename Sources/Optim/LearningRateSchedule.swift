import TensorCore

/// A learning-rate schedule: the learning rate as a pure function of the base
/// learning rate and the epoch counter (torch's `last_epoch`), with the
/// parameter names, defaults and formulas of torch.optim.lr_scheduler.
///
/// Each schedule is torch's closed form (`_get_closed_form_lr`), not its
/// chainable `get_lr`, which multiplies the previous learning rate by a
/// factor every step: the two are equal in exact arithmetic and differ only
/// by rounding (about 1e-16 relative per step). The closed form makes the
/// learning rate depend on the saved counter alone, so a resumed run
/// recomputes exactly the learning rate it would have had.
///
/// Values are validated when they are made (the static functions throw), so
/// every schedule that exists is usable.
public struct LearningRateSchedule: Equatable, Sendable, CustomStringConvertible {
    /// The schedules, with their parameters by torch name.
    public enum Kind: Equatable, Sendable {
        /// StepLR: `base * gamma^(epoch / step_size)` (integer division).
        case step(stepSize: Int, gamma: Double)
        /// MultiStepLR: `base * gamma^(number of milestones <= epoch)`.
        case multiStep(milestones: [Int], gamma: Double)
        /// CosineAnnealingLR: `eta_min + (base - eta_min) (1 + cos(pi epoch / T_max)) / 2`.
        /// Past T_max the cosine goes on (back up to base at 2 T_max), as in torch.
        case cosineAnnealing(tMax: Int, etaMin: Double)
        /// LinearLR: `base * (start + (end - start) min(epoch, total_iters) / total_iters)`.
        case linear(startFactor: Double, endFactor: Double, totalIters: Int)
        /// Linear warm-up then cosine annealing, torch's
        /// `SequentialLR([LinearLR(start_factor, 1.0, total_iters=warmup),
        /// CosineAnnealingLR(T_max=t_max - warmup, eta_min)], milestones=[warmup])`:
        /// LinearLR before epoch `warmup`, then the cosine over epoch - warmup.
        case warmupCosine(warmupIters: Int, startFactor: Double, tMax: Int, etaMin: Double)
    }

    /// Which schedule, and its (validated) parameters.
    public let kind: Kind

    /// A schedule from its parameters; throws when one is out of range.
    public init(_ kind: Kind) throws {
        try Self.validate(kind)
        self.kind = kind
    }

    /// torch's StepLR(step_size, gamma=0.1): multiplies by gamma every `stepSize` epochs.
    public static func stepLR(stepSize: Int, gamma: Double = 0.1) throws -> Self {
        try Self(.step(stepSize: stepSize, gamma: gamma))
    }

    /// torch's MultiStepLR(milestones, gamma=0.1): multiplies by gamma at each milestone.
    public static func multiStepLR(milestones: [Int], gamma: Double = 0.1) throws -> Self {
        try Self(.multiStep(milestones: milestones, gamma: gamma))
    }

    /// torch's CosineAnnealingLR(T_max, eta_min=0): half a cosine from base down to etaMin over tMax epochs.
    public static func cosineAnnealingLR(tMax: Int, etaMin: Double = 0) throws -> Self {
        try Self(.cosineAnnealing(tMax: tMax, etaMin: etaMin))
    }

    /// torch's LinearLR(start_factor=1/3, end_factor=1.0, total_iters=5): the factor of base goes
    /// linearly from startFactor to endFactor over totalIters epochs, then stays.
    public static func linearLR(startFactor: Double = 1.0 / 3, endFactor: Double = 1.0,
                                totalIters: Int = 5) throws -> Self {
        try Self(.linear(startFactor: startFactor, endFactor: endFactor, totalIters: totalIters))
    }

    /// Linear warm-up from `startFactor * base` to base over `warmupIters` epochs, then cosine
    /// annealing to etaMin at epoch `tMax` (tMax counts from the start, warm-up included). For no
    /// warm-up use `cosineAnnealingLR` (torch's SequentialLR with a milestone at 0 is not that).
    public static func warmupCosine(warmupIters: Int, tMax: Int, startFactor: Double = 1.0 / 3,
                                    etaMin: Double = 0) throws -> Self {
        try Self(.warmupCosine(warmupIters: warmupIters, startFactor: startFactor, tMax: tMax, etaMin: etaMin))
    }

    /// The learning rate at `epoch` (torch's `last_epoch`, 0 right after construction).
    public func learningRate(base: Double, epoch: Int) -> Double {
        ensure(epoch >= 0, "Epoch must be non-negative, got \(epoch)")
        switch kind {
        case let .step(stepSize, gamma):
            return base * libmPow(gamma, Double(epoch / stepSize))
        case let .multiStep(milestones, gamma):
            // bisect_right(milestones, epoch): the milestones reached so far.
            let reached = milestones.firstIndex { $0 > epoch } ?? milestones.count
            return base * libmPow(gamma, Double(reached))
        case let .cosineAnnealing(tMax, etaMin):
            return Self.cosine(base: base, epoch: epoch, tMax: tMax, etaMin: etaMin)
        case let .linear(startFactor, endFactor, totalIters):
            return Self.linear(base: base, epoch: epoch, startFactor: startFactor, endFactor: endFactor,
                               totalIters: totalIters)
        case let .warmupCosine(warmupIters, startFactor, tMax, etaMin):
            // SequentialLR hands over at the milestone with step(0): the cosine's closed form at 0, = base.
            if epoch < warmupIters {
                return Self.linear(base: base, epoch: epoch, startFactor: startFactor, endFactor: 1,
                                   totalIters: warmupIters)
            }
            return Self.cosine(base: base, epoch: epoch - warmupIters, tMax: tMax - warmupIters, etaMin: etaMin)
        }
    }

    // torch's operation order, so that the Double results are Python's bits.
    private static func cosine(base: Double, epoch: Int, tMax: Int, etaMin: Double) -> Double {
        etaMin + (base - etaMin) * (1 + libmCos(Double.pi * Double(epoch) / Double(tMax))) / 2
    }

    private static func linear(base: Double, epoch: Int, startFactor: Double, endFactor: Double,
                               totalIters: Int) -> Double {
        base * (startFactor + (endFactor - startFactor) * Double(min(totalIters, epoch)) / Double(totalIters))
    }

    /// Every schedule's `typeName`, for messages and command lines.
    public static let typeNames = ["step", "multistep", "cosine", "linear", "warmup_cosine"]

    /// "step", "multistep", "cosine", "linear" or "warmup_cosine": what a
    /// checkpoint records to rebuild the schedule and refuse a mismatch.
    public var typeName: String {
        switch kind {
        case .step: "step"
        case .multiStep: "multistep"
        case .cosineAnnealing: "cosine"
        case .linear: "linear"
        case .warmupCosine: "warmup_cosine"
        }
    }

    /// torch's class name, for messages.
    var torchName: String { kind.torchName }

    public var description: String {
        switch kind {
        case let .step(stepSize, gamma): "StepLR(step_size=\(stepSize), gamma=\(gamma))"
        case let .multiStep(milestones, gamma): "MultiStepLR(milestones=\(milestones), gamma=\(gamma))"
        case let .cosineAnnealing(tMax, etaMin): "CosineAnnealingLR(T_max=\(tMax), eta_min=\(etaMin))"
        case let .linear(s, e, n): "LinearLR(start_factor=\(s), end_factor=\(e), total_iters=\(n))"
        case let .warmupCosine(w, s, tMax, etaMin):
            "SequentialLR([LinearLR(start_factor=\(s), end_factor=1.0, total_iters=\(w)), "
                + "CosineAnnealingLR(T_max=\(tMax - w), eta_min=\(etaMin))], milestones=[\(w)])"
        }
    }

    private static func validate(_ kind: Kind) throws {
        let name = kind.torchName
        func require(_ condition: Bool, _ parameter: String, _ value: some CustomStringConvertible,
                     _ requirement: String) throws {
            if !condition {
                throw LearningRateScheduleError.invalidParameter(schedule: name, name: parameter,
                                                                 value: value.description, requirement: requirement)
            }
        }
        func requireGamma(_ gamma: Double) throws {
            try require(gamma > 0 && gamma.isFinite, "gamma", gamma, "positive and finite")
        }
        func requireEtaMin(_ etaMin: Double) throws {
            try require(etaMin >= 0 && etaMin.isFinite, "eta_min", etaMin, "non-negative and finite")
        }
        func requireStartFactor(_ startFactor: Double) throws {
            try require(startFactor > 0 && startFactor <= 1, "start_factor", startFactor, "in (0, 1]")
        }
        switch kind {
        case let .step(stepSize, gamma):
            try require(stepSize >= 1, "step_size", stepSize, "at least 1")
            try requireGamma(gamma)
        case let .multiStep(milestones, gamma):
            try require(milestones.allSatisfy { $0 >= 0 }, "milestones", milestones, "non-negative")
            try require(zip(milestones, milestones.dropFirst()).allSatisfy { $0 < $1 }, "milestones", milestones,
                        "strictly increasing")
            try requireGamma(gamma)
        case let .cosineAnnealing(tMax, etaMin):
            try require(tMax >= 1, "T_max", tMax, "at least 1")
            try requireEtaMin(etaMin)
        case let .linear(startFactor, endFactor, totalIters):
            try requireStartFactor(startFactor)
            try require(endFactor >= 0 && endFactor <= 1, "end_factor", endFactor, "in [0, 1]")
            try require(totalIters >= 1, "total_iters", totalIters, "at least 1")
        case let .warmupCosine(warmupIters, startFactor, tMax, etaMin):
            try require(warmupIters >= 1, "warm-up iterations (LinearLR total_iters)", warmupIters,
                        "at least 1 (use CosineAnnealingLR for none)")
            try require(tMax > warmupIters, "t_max", tMax, "greater than the \(warmupIters) warm-up iterations")
            try requireStartFactor(startFactor)
            try requireEtaMin(etaMin)
        }
    }
}

extension LearningRateSchedule.Kind {
    /// torch's class name, for messages.
    var torchName: String {
        switch self {
        case .step: "StepLR"
        case .multiStep: "MultiStepLR"
        case .cosineAnnealing: "CosineAnnealingLR"
        case .linear: "LinearLR"
        case .warmupCosine: "SequentialLR(LinearLR, CosineAnnealingLR)"
        }
    }
}
