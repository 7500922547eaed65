/// A learning-rate scheduler's state_dict as torch names it, for a
/// checkpoint: its kind, its numbers and its lists of numbers.
///
/// Written as the group `/scheduler`: a str attribute `type`, one float64
/// attribute per scalar and one float64 array attribute per list (see
/// `CheckpointFile`). Integers (last_epoch, _step_count, milestones) are
/// stored as doubles, exactly for any value below 2^53.
public struct SchedulerState: Sendable, Equatable, Codable {
    /// The schedule's name, e.g. "step", "multistep", "cosine", "linear", "warmup_cosine".
    public var type: String
    /// Numbers by state_dict key: last_epoch, _step_count, step_size, gamma,
    /// T_max, eta_min, start_factor, end_factor, total_iters, ... ("type" is
    /// not allowed: it is the attribute that holds `type`).
    public var scalars: [String: Double]
    /// Lists by state_dict key: base_lrs, _last_lr, milestones; each may be
    /// empty. A key cannot be both a scalar and a list.
    public var lists: [String: [Double]]

    /// A scheduler state.
    public init(type: String, scalars: [String: Double], lists: [String: [Double]]) {
        self.type = type
        self.scalars = scalars
        self.lists = lists
    }
}
