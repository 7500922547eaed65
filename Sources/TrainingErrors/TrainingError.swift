/// Errors the trainer reports to the user; each message names the option,
/// file or step concerned and what is wrong.
///
/// An option error carries a typed key (`OptionKey`), which knows both the
/// option's flag and its Swift name. `description` names the flag
/// (`--batch-size: must be ...`): it is what `trainer` prints, here and in
/// `Trainer.endJob` when a rank ends a multi-rank job, and the command line
/// is where most of these errors are met. A Swift program shows its user
/// `swiftDescription` (`batchSize: must be ...`), which names the field that
/// was set. Two explicit properties rather than a process-wide switch that
/// the `trainer` entry point would set: no global state, and each caller
/// says which user it speaks to.
public enum TrainingError: Error, CustomStringConvertible {
    /// An option has an unusable value: which option, and the problem.
    case invalidOption(OptionKey, String)
    /// The loss (or a gradient) stopped being finite.
    case nonFiniteLoss(epoch: Int, step: Int, value: Float)
    /// A gradient stopped being finite although the loss was finite.
    case nonFiniteGradient(epoch: Int, step: Int)
    /// Ranks hold different parameters (found by `--check-replicas`).
    case replicasDiverged(step: Int)
    /// A checkpoint does not fit this run, or none could be used.
    case checkpoint(String)
    /// A step made no progress for too long.
    case stalled(step: Int, seconds: Double)
    /// A file could not be written.
    case cannotWrite(path: String, reason: String)
    /// The data cannot be trained on (a value that is not finite); the
    /// message names the data set, the sample and the value.
    case data(String)

    public var description: String {
        switch self {
        case let .invalidOption(key, problem):
            "\(key.flag): \(problem)"
        case let .nonFiniteLoss(epoch, step, value):
            "loss is \(value) at epoch \(epoch), step \(step): training diverged (try a lower --lr); no checkpoint was written for this step"
        case let .nonFiniteGradient(epoch, step):
            "a gradient is NaN or infinite at epoch \(epoch), step \(step): training diverged (try a lower --lr); the step was not applied and no checkpoint was written for it"
        case let .replicasDiverged(step):
            "ranks hold different parameters after step \(step) (--check-replicas)"
        case let .checkpoint(message), let .data(message):
            message
        case let .stalled(step, seconds):
            "no progress for \(Int(seconds)) s at step \(step) (--step-timeout): a hung collective or a stuck rank; aborting the job so it can restart from the last checkpoint"
        case let .cannotWrite(path, reason):
            "cannot write \(path): \(reason)"
        }
    }

    /// The message for a Swift program's user: an option error names the
    /// Swift field or argument (`batchSize: must be ...`) instead of the
    /// flag; every other message is `description`.
    public var swiftDescription: String {
        guard case let .invalidOption(key, problem) = self else { return description }
        return "\(key.swiftName): \(problem)"
    }
}
