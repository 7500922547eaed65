import Foundation

/// What a run expects of the checkpoint it resumes from, so that a
/// mismatch is refused with a message naming what differs instead of
/// failing later, or worse, training on with the wrong tensors.
///
/// Compares the model name and configuration (as JSON, key by key), the
/// parameter names and shapes (missing and unexpected names, as PyTorch's
/// `load_state_dict` reports them), the optimizer type and its state
/// buffers, and when asked the model's buffers and the learning-rate
/// schedule. Batch size, world size and hyper-parameters are left to the
/// trainer: resuming with other values can be intended.
public struct CheckpointExpectation: Sendable, Equatable {
    /// The model name, e.g. "mlp".
    public var model: String
    /// The model configuration JSON the run would write.
    public var modelConfig: String
    /// The run's parameter names and shapes.
    public var parameters: TensorLayout
    /// The optimizer's `typeName`.
    public var optimizerType: String
    /// The optimizer's state names (`stateNames`), or nil not to compare them.
    public var optimizerStateNames: [String]?
    /// The run's buffer names and shapes (BatchNorm running statistics), or
    /// nil not to compare them.
    public var buffers: TensorLayout?
    /// The run's learning-rate schedule (`SchedulerState.type`), or nil when
    /// the run has none: then whatever the checkpoint holds is accepted, and
    /// otherwise the checkpoint must hold a scheduler of this type.
    public var schedulerType: String?

    public init(model: String, modelConfig: String, parameters: TensorLayout, optimizerType: String,
                optimizerStateNames: [String]? = nil, buffers: TensorLayout? = nil, schedulerType: String? = nil) {
        self.model = model
        self.modelConfig = modelConfig
        self.parameters = parameters
        self.optimizerType = optimizerType
        self.optimizerStateNames = optimizerStateNames
        self.buffers = buffers
        self.schedulerType = schedulerType
    }

    /// Each way `state` differs from what this run expects, one line each;
    /// empty when it fits.
    public func differences(from state: TrainingState) -> [String] {
        var differences: [String] = []
        if state.model != model {
            differences.append("model: the checkpoint has '\(state.model)', this run has '\(model)'")
        }
        differences += configDifferences(checkpoint: state.modelConfig, run: modelConfig)

        differences += layoutDifferences(checkpoint: state.parameters.layout, run: parameters,
                                         plural: "parameters", singular: "parameter")
        if let buffers {
            differences += layoutDifferences(checkpoint: state.buffers.layout, run: buffers,
                                             plural: "buffers", singular: "buffer")
        }

        if state.optimizer.type != optimizerType {
            differences.append("optimizer: the checkpoint has '\(state.optimizer.type)', "
                               + "this run has '\(optimizerType)'")
        } else if let names = optimizerStateNames, names.sorted() != state.optimizer.stateNames {
            differences.append("optimizer state: the checkpoint has \(state.optimizer.stateNames), "
                               + "this run needs \(names.sorted())")
        }

        if let schedulerType, state.scheduler?.type != schedulerType {
            let used = state.scheduler.map { "lr schedule '\($0.type)'" } ?? "no lr schedule"
            differences.append("lr schedule: the checkpoint's run used \(used), "
                               + "this run asks for '\(schedulerType)'")
        }
        return differences
    }

    /// Missing and unexpected names and differing shapes, as PyTorch's
    /// `load_state_dict` reports them.
    private func layoutDifferences(checkpoint stored: TensorLayout, run: TensorLayout, plural: String,
                                   singular: String) -> [String] {
        var differences: [String] = []
        let missing = run.names.filter { stored.index(of: $0) == nil }
        let unexpected = stored.names.filter { run.index(of: $0) == nil }
        if !missing.isEmpty {
            differences.append("missing \(plural) (in this run, not in the checkpoint): "
                               + missing.joined(separator: ", "))
        }
        if !unexpected.isEmpty {
            differences.append("unexpected \(plural) (in the checkpoint, not in this run): "
                               + unexpected.joined(separator: ", "))
        }
        for (index, name) in run.names.enumerated() {
            guard let storedIndex = stored.index(of: name), stored.shapes[storedIndex] != run.shapes[index]
            else { continue }
            differences.append("\(singular) '\(name)': shape \(stored.shapes[storedIndex]) in the checkpoint, "
                               + "\(run.shapes[index]) in this run")
        }
        return differences
    }

    /// Throws `CheckpointError.incompatible` listing every difference
    /// unless `checkpoint` fits this run.
    public func check(_ checkpoint: LoadedCheckpoint) throws {
        let found = differences(from: checkpoint.state)
        if !found.isEmpty {
            throw CheckpointError.incompatible(file: checkpoint.path, differences: found)
        }
    }

    /// The model configurations' differences, key by key when both are JSON
    /// objects ("model_config.hidden: the checkpoint has 128, this run has 256").
    private func configDifferences(checkpoint: String, run: String) -> [String] {
        guard checkpoint != run else { return [] }
        guard let stored = flattenedJSON(checkpoint), let wanted = flattenedJSON(run) else {
            return ["model_config: the checkpoint has \(checkpoint), this run has \(run)"]
        }
        var differences: [String] = []
        for key in Set(stored.keys).union(wanted.keys).sorted() where stored[key] != wanted[key] {
            differences.append("model_config\(key): the checkpoint has \(stored[key] ?? "nothing"), "
                               + "this run has \(wanted[key] ?? "nothing")")
        }
        return differences
    }
}

/// A JSON text's leaves by key path (".hidden", ".layers.conv"), each as
/// canonical JSON; arrays are leaves. Nil if `text` is not JSON.
private func flattenedJSON(_ text: String) -> [String: String]? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
        return nil
    }
    var leaves: [String: String] = [:]
    func visit(_ value: Any, _ path: String) {
        if let dictionary = value as? [String: Any] {
            for (key, child) in dictionary { visit(child, path + "." + key) }
            return
        }
        let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
        leaves[path] = data.map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
    }
    visit(object, "")
    return leaves
}
