/// Why a learning-rate schedule or a scheduler's saved state was refused,
/// naming the parameter or state key (torch's names) and what is wrong.
public enum LearningRateScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A schedule parameter is out of range: `schedule` is torch's class name.
    case invalidParameter(schedule: String, name: String, value: String, requirement: String)
    /// The state names a schedule type this code does not know.
    case unknownType(String)
    /// A key the state of this schedule type needs is absent.
    case missingKey(type: String, key: String)
    /// A key that does not belong to the state of this schedule type.
    case unexpectedKey(type: String, key: String)
    /// A key is present but its value cannot be used.
    case invalidState(key: String, reason: String)
    /// The state describes a different schedule than the run configures.
    case mismatch(key: String, saved: String, configured: String)

    public var description: String {
        switch self {
        case let .invalidParameter(schedule, name, value, requirement):
            "\(schedule): \(name) must be \(requirement), got \(value)"
        case let .unknownType(type):
            "unknown learning-rate schedule '\(type)' (known: \(LearningRateSchedule.typeNames.joined(separator: ", ")))"
        case let .missingKey(type, key):
            "learning-rate scheduler state ('\(type)' schedule) lacks '\(key)'"
        case let .unexpectedKey(type, key):
            "learning-rate scheduler state ('\(type)' schedule) has an unexpected key '\(key)'"
        case let .invalidState(key, reason):
            "learning-rate scheduler state: '\(key)' \(reason)"
        case let .mismatch(key, saved, configured):
            "learning-rate schedule differs from the saved one: \(key) is \(saved) in the saved state "
                + "but \(configured) in this run"
        }
    }
}
