/// Errors the trainer reports to the user; each message names the flag,
/// file or step concerned and what is wrong.
public enum TrainingError: Error, CustomStringConvertible {
    /// A command-line option has an unusable value.
    case invalidOption(String, String)
    /// The loss (or a gradient) stopped being finite.
    case nonFiniteLoss(epoch: Int, step: Int, value: Float)
    /// Ranks hold different parameters (found by `--check-replicas`).
    case replicasDiverged(step: Int)
    /// A file could not be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidOption(flag, problem):
            "\(flag): \(problem)"
        case let .nonFiniteLoss(epoch, step, value):
            "loss is \(value) at epoch \(epoch), step \(step): training diverged (try a lower --lr); no checkpoint was written for this step"
        case let .replicasDiverged(step):
            "ranks hold different parameters after step \(step) (--check-replicas)"
        case let .cannotWrite(path, reason):
            "cannot write \(path): \(reason)"
        }
    }
}
