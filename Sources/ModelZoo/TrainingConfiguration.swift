import Training

/// A `trainer train` job: a zoo model (`ModelSpec`), a catalog data set and
/// the run options. Options read and write through it (`c.epochs`).
@dynamicMemberLookup
public struct TrainingConfiguration: Sendable, Codable, Equatable {
    public typealias OptimizerKind = TrainingOptions.OptimizerKind

    public var model: ModelSpec
    public var dataset: String = "fashion-mnist"
    public var dataDirectory: String?
    public var options = TrainingOptions()

    public init(model: ModelSpec) { self.model = model }

    public subscript<T>(dynamicMember keyPath: WritableKeyPath<TrainingOptions, T>) -> T {
        get { options[keyPath: keyPath] }
        set { options[keyPath: keyPath] = newValue }
    }

    /// The checkpoint directory in effect.
    public var resolvedCheckpointDirectory: String { options.checkpointDirectory ?? "runs/\(model.name)" }

    /// Checks the model's options and the run options; the error names the option.
    public func validate() throws {
        try model.validate()
        try options.validate()
    }
}
