/// A `LearningRateScheduler` as a checkpoint stores it: the keys of torch's
/// `state_dict()` (one parameter group, so each list has one element),
/// integers as exact Doubles.
///
///     scalars  last_epoch, _step_count, and the schedule's own:
///              step:          step_size, gamma
///              multistep:     gamma                  (lists: milestones)
///              cosine:        T_max, eta_min
///              linear:        start_factor, end_factor, total_iters
///              warmup_cosine: start_factor, end_factor (1), total_iters (the warm-up),
///                             T_max (the cosine's: t_max - warm-up), eta_min
///                                                    (lists: milestones = [warm-up])
///     lists    base_lrs, _last_lr
///
/// warmup_cosine stores the values torch's SequentialLR keeps in its two
/// sub-schedulers, under their names.
public struct LearningRateSchedulerState: Equatable, Sendable, Codable {
    /// The schedule's `typeName` (not a torch key: torch pickles the class).
    public var typeName: String
    public var scalars: [String: Double]
    public var lists: [String: [Double]]

    public init(typeName: String, scalars: [String: Double], lists: [String: [Double]]) {
        self.typeName = typeName
        self.scalars = scalars
        self.lists = lists
    }

    /// The scheduler's own keys, besides the schedule's.
    static let schedulerScalarKeys: Set = ["last_epoch", "_step_count"]
    static let schedulerListKeys: Set = ["base_lrs", "_last_lr"]

    /// Scalar `key`, which must be present.
    func scalar(_ key: String) throws -> Double {
        guard let value = scalars[key] else { throw LearningRateScheduleError.missingKey(type: typeName, key: key) }
        return value
    }

    /// Scalar `key` as an integer: present, integral and in Int's range.
    func integer(_ key: String) throws -> Int {
        let value = try scalar(key)
        guard let integer = Int(exactly: value) else {
            throw LearningRateScheduleError.invalidState(key: key, reason: "is \(value), not an integer")
        }
        return integer
    }

    /// List `key`, which must be present.
    func list(_ key: String) throws -> [Double] {
        guard let value = lists[key] else { throw LearningRateScheduleError.missingKey(type: typeName, key: key) }
        return value
    }

    /// The one element of list `key` (one parameter group).
    func single(_ key: String) throws -> Double {
        let values = try list(key)
        guard values.count == 1 else {
            throw LearningRateScheduleError.invalidState(key: key, reason: "has \(values.count) values, not 1 (one parameter group)")
        }
        return values[0]
    }
}

extension LearningRateSchedule {
    /// The schedule's parameters under torch's state_dict names.
    var state: (scalars: [String: Double], lists: [String: [Double]]) {
        switch kind {
        case let .step(stepSize, gamma):
            (["step_size": Double(stepSize), "gamma": gamma], [:])
        case let .multiStep(milestones, gamma):
            (["gamma": gamma], ["milestones": milestones.map(Double.init)])
        case let .cosineAnnealing(tMax, etaMin):
            (["T_max": Double(tMax), "eta_min": etaMin], [:])
        case let .linear(startFactor, endFactor, totalIters):
            (["start_factor": startFactor, "end_factor": endFactor, "total_iters": Double(totalIters)], [:])
        case let .warmupCosine(warmupIters, startFactor, tMax, etaMin):
            (["start_factor": startFactor, "end_factor": 1, "total_iters": Double(warmupIters),
              "T_max": Double(tMax - warmupIters), "eta_min": etaMin],
             ["milestones": [Double(warmupIters)]])
        }
    }

    /// The schedule `state` describes; throws on an unknown type, a missing,
    /// unexpected or malformed key, or parameters out of range.
    init(state: LearningRateSchedulerState) throws {
        let kind: Kind
        switch state.typeName {
        case "step":
            kind = .step(stepSize: try state.integer("step_size"), gamma: try state.scalar("gamma"))
        case "multistep":
            let milestones = try state.list("milestones").map { value in
                guard let milestone = Int(exactly: value) else {
                    throw LearningRateScheduleError.invalidState(key: "milestones", reason: "holds \(value), not an integer")
                }
                return milestone
            }
            kind = .multiStep(milestones: milestones, gamma: try state.scalar("gamma"))
        case "cosine":
            kind = .cosineAnnealing(tMax: try state.integer("T_max"), etaMin: try state.scalar("eta_min"))
        case "linear":
            kind = .linear(startFactor: try state.scalar("start_factor"), endFactor: try state.scalar("end_factor"),
                           totalIters: try state.integer("total_iters"))
        case "warmup_cosine":
            let warmup = try state.integer("total_iters")
            guard try state.scalar("end_factor") == 1 else {
                throw LearningRateScheduleError.invalidState(key: "end_factor", reason: "is not 1 in a warm-up")
            }
            guard try state.list("milestones") == [Double(warmup)] else {
                throw LearningRateScheduleError.invalidState(key: "milestones", reason: "is not [total_iters]")
            }
            let (cosineTMax, overflow) = try state.integer("T_max").addingReportingOverflow(warmup)
            guard !overflow else { throw LearningRateScheduleError.invalidState(key: "T_max", reason: "is too large") }
            kind = .warmupCosine(warmupIters: warmup, startFactor: try state.scalar("start_factor"),
                                 tMax: cosineTMax, etaMin: try state.scalar("eta_min"))
        default:
            throw LearningRateScheduleError.unknownType(state.typeName)
        }
        try self.init(kind)
        // torch's load_state_dict reports unexpected keys; so does this.
        let own = self.state
        for key in state.scalars.keys.sorted()
        where own.scalars[key] == nil && !LearningRateSchedulerState.schedulerScalarKeys.contains(key) {
            throw LearningRateScheduleError.unexpectedKey(type: state.typeName, key: key)
        }
        for key in state.lists.keys.sorted()
        where own.lists[key] == nil && !LearningRateSchedulerState.schedulerListKeys.contains(key) {
            throw LearningRateScheduleError.unexpectedKey(type: state.typeName, key: key)
        }
    }
}
