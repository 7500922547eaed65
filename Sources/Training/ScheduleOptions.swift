import Optim

/// `--lr-schedule` and its parameters: which torch.optim.lr_scheduler the
/// run follows, and whether it advances per epoch or per optimizer step.
public struct ScheduleOptions: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case none, step, multistep, cosine
        case warmupCosine = "warmup-cosine"
    }

    /// What one scheduler step is (torch: where `scheduler.step()` is called).
    public enum Unit: String, Sendable, Codable, CaseIterable {
        /// After every epoch (the default, as in most torch examples).
        case epoch
        /// After every optimizer step.
        case step
    }

    public var kind: Kind = .none
    public var unit: Unit = .epoch
    /// StepLR's step_size (`--lr-step-size`).
    public var stepSize: Int?
    /// StepLR's and MultiStepLR's gamma (`--lr-gamma`).
    public var gamma: Double = 0.1
    /// MultiStepLR's milestones (`--lr-milestones a,b,c`).
    public var milestones: [Int] = []
    /// CosineAnnealingLR's T_max, for warmup-cosine the whole length (`--lr-t-max`).
    public var tMax: Int?
    /// CosineAnnealingLR's eta_min (`--lr-eta-min`).
    public var etaMin: Double = 0
    /// LinearLR warm-up iterations of warmup-cosine (`--lr-warmup`).
    public var warmup: Int?
    /// LinearLR's start_factor for the warm-up (torch's default 1/3).
    public var warmupStartFactor: Double = 1.0 / 3

    public init() {}

    /// The schedule, or nil for `none`; the error names the option.
    public func schedule() throws -> LearningRateSchedule? {
        func required(_ value: Int?, _ key: OptionKey) throws -> Int {
            guard let value else { throw TrainingError.invalidOption(key, "is required by --lr-schedule \(kind.rawValue)") }
            return value
        }
        do {
            switch kind {
            case .none:
                return nil
            case .step:
                return try .stepLR(stepSize: try required(stepSize, .scheduleStepSize), gamma: gamma)
            case .multistep:
                guard !milestones.isEmpty else {
                    throw TrainingError.invalidOption(.scheduleMilestones, "is required by --lr-schedule multistep (e.g. 30,80)")
                }
                return try .multiStepLR(milestones: milestones, gamma: gamma)
            case .cosine:
                return try .cosineAnnealingLR(tMax: try required(tMax, .scheduleTMax), etaMin: etaMin)
            case .warmupCosine:
                return try .warmupCosine(warmupIters: try required(warmup, .scheduleWarmup), tMax: try required(tMax, .scheduleTMax),
                                         startFactor: warmupStartFactor, etaMin: etaMin)
            }
        } catch let error as LearningRateScheduleError {
            throw TrainingError.invalidOption(.schedule, "\(error) (--lr-schedule \(kind.rawValue))")
        }
    }

    /// Every parameter given to a schedule that does not use it is refused,
    /// so that a typo does not pass silently.
    func validate() throws {
        let decays = kind == .step || kind == .multistep, anneals = kind == .cosine || kind == .warmupCosine
        let unused: [(Bool, OptionKey)] = [
            (stepSize != nil && kind != .step, .scheduleStepSize),
            (!milestones.isEmpty && kind != .multistep, .scheduleMilestones),
            (tMax != nil && !anneals, .scheduleTMax),
            (warmup != nil && kind != .warmupCosine, .scheduleWarmup),
            (gamma != ScheduleOptions().gamma && !decays, .scheduleGamma),
            (etaMin != 0 && !anneals, .scheduleEtaMin),
            (unit != .epoch && kind == .none, .scheduleUnit),
        ]
        if let (_, key) = unused.first(where: { $0.0 }) {
            throw TrainingError.invalidOption(key, "does not apply to --lr-schedule \(kind.rawValue)")
        }
        let parameters: [(Double, OptionKey)] = [(gamma, .scheduleGamma), (etaMin, .scheduleEtaMin),
                                                 (warmupStartFactor, .scheduleWarmupStartFactor)]
        for (value, key) in parameters where !value.isFinite {
            throw TrainingError.invalidOption(key, "must be a finite number, got \(value)")
        }
        _ = try schedule()
    }
}
