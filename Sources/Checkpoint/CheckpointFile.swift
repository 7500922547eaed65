import HDF5
import SafeFiles

/// Checkpoint files: one HDF5 file per checkpoint that h5py and h5dump open
/// as they are, written and read here from a `TrainingState`.
///
/// # Layout (format_version 1)
///
///     /                                root group; its attributes:
///         format           str         "swiftddp-checkpoint"
///         format_version   int64       1
///         epoch            int64       epoch in progress, as the trainer counts it
///         iteration        int64       optimizer steps already taken within that epoch
///         global_step      int64       optimizer steps since the run began
///         samples_seen     int64       training samples consumed, all ranks together
///         seed             uint64      the run's seed
///         world_size       int64       number of ranks at save time
///         batch_size       int64       global batch size (summed over ranks)
///         model            str         model name, e.g. "mlp"
///         model_config     str         JSON with every option needed to rebuild the model
///         dataset          str         data set name, e.g. "fashion-mnist"
///         rng_state        uint64[n]   random generator state words (4 for xoshiro256**)
///         created          str         ISO 8601 time in UTC, e.g. "2025-01-31T12:00:00.250Z"
///         metadata_crc32   uint32      checksum of everything but the tensor values (below)
///     /model/<name>                    float32 dataset per parameter, named and shaped as in
///                                      PyTorch's state_dict: Linear weight [out, in], bias [out],
///                                      Conv2d weight [out, in, kh, kw]; listed in state_dict order
///         crc32            uint32      checksum of the dataset's values (below)
///     /model/<name>                    float32 dataset per buffer (non-trainable tensor: BatchNorm's
///                                      running_mean [C], running_var [C], num_batches_tracked as a
///                                      scalar of shape []), after the parameters, in state_dict order
///         crc32            uint32      as for a parameter
///         buffer           int64       1: marks a buffer; parameters have no such attribute
///     /optimizer                       group; its attributes:
///         type             str         "sgd" or "adam"
///         step             int64       optimizer steps taken
///         <hyper-parameter> float64    one per hyper-parameter: lr, momentum, dampening,
///                                      nesterov (0/1), beta1, beta2, eps, weight_decay, ...
///     /optimizer/<name>/<state>        float32, shaped like /model/<name>, with its own crc32:
///                                      momentum_buffer (SGD with momentum); exp_avg and
///                                      exp_avg_sq (Adam). No groups when there is no state.
///     /scheduler                       group, only when the run has a learning-rate scheduler:
///         type             str         "step", "multistep", "cosine", "linear", "warmup_cosine", ...
///         <scalar>         float64     one per number of its state_dict: last_epoch, _step_count,
///                                      step_size, gamma, T_max, eta_min, total_iters, ...
///         <list>           float64[n]  one per list of its state_dict (base_lrs, _last_lr,
///                                      milestones); n may be 0. Scalars are rank 0, lists rank 1,
///                                      so a one-element list stays a list.
///     /extra                           group; one str attribute per extra entry
///                                      (e.g. the trainer configuration as JSON)
///
/// Files without buffers or a scheduler are exactly what format_version 1
/// always wrote: neither adds anything, not even metadata lines, when absent.
/// Optimizer state exists for parameters only, never for buffers.
///
/// Names contain dots ("0.weight") and each is a single link name, not a
/// path. Strings are variable-length UTF-8, which h5py reads as `str`.
/// `crc32` is zlib's CRC-32 of the values as little-endian float32 bytes in
/// row-major order; loading recomputes it for every dataset. The file uses
/// the HDF5 1.8 format, whose object headers carry their own checksums, but
/// HDF5 keeps variable-length strings in a heap that has none, so
/// `metadata_crc32` covers every attribute, tensor name and shape: it is
/// the CRC-32 of a canonical text of them (`metadataText(of:)`), which
/// loading rebuilds from what it read and compares.
///
/// From Python:
///
///     with h5py.File("ckpt-00001200.h5", "r") as f:
///         state_dict = {k: torch.from_numpy(v[()]) for k, v in f["model"].items()}  # with buffers
///         params = [k for k, v in f["model"].items() if "buffer" not in v.attrs]
///         sched = dict(f["scheduler"].attrs) if "scheduler" in f else None
///         step = int(f.attrs["global_step"]); config = json.loads(f.attrs["model_config"])
///
/// # Directory
///
/// `CheckpointDirectory` keeps `ckpt-<global_step>.h5` files, the step
/// zero-padded to 8 digits so names sort like steps (ckpt-00001200.h5), a
/// `latest` text file holding the newest file's name, and while a write is
/// under way a hidden `.ckpt-<step>.h5.tmp`. Every file is written under a
/// temporary name, fsynced, renamed into place and the directory fsynced,
/// so a crash leaves either the old file or the complete new one.
public enum CheckpointFile {
    /// The value of the root attribute `format`.
    public static let formatName = "swiftddp-checkpoint"
    /// The layout version this code writes and the newest it reads.
    public static let formatVersion = 1

    /// Writes `state` to a new file at `path`, replacing any file there.
    ///
    /// The file is built in memory and written out with one ordinary write
    /// (`HDF5File.createInMemory(_:)` says why: a full disk under HDF5
    /// crashes the library later), then fsynced. Not atomic by itself:
    /// `CheckpointDirectory.save(_:)` writes to a temporary name and moves
    /// the finished file into place. Throws `CheckpointError.invalidState`
    /// for a state that cannot be stored, the `HDF5Error` of a failed build,
    /// or the `FileSystemError` of a failed write (ENOSPC), each naming the file.
    public static func write(_ state: TrainingState, to path: String) throws {
        try check(state)
        let file = try HDF5File.createInMemory(path)
        let image: [UInt8]
        do {
            try writeContents(state, to: file)
            image = try file.image()
            try file.close()
        } catch {
            try? file.close()
            throw error
        }
        try writeFile(image, to: path)
    }

    /// Reads the checkpoint at `path`, verifying that every required
    /// attribute is there with the right type, that optimizer state matches
    /// the parameters (buffers have none), that `/scheduler` (if any) has a
    /// type and float64 values only, every dataset's checksum and the
    /// metadata checksum.
    ///
    /// Throws a `CheckpointError` naming the file and what is wrong:
    /// `.checksumMismatch` with the dataset and both checksums,
    /// `.metadataChecksumMismatch` for damaged attributes, `.unreadable` for
    /// a missing, truncated or non-HDF5 file, `.invalid` for a missing or
    /// malformed part, `.unsupportedVersion` for a newer format.
    public static func read(_ path: String) throws -> TrainingState {
        let file: HDF5File
        do {
            file = try HDF5File.open(path)
        } catch let error as HDF5Error {
            let call = error.function.isEmpty ? "" : " (\(error.function))"
            throw CheckpointError.unreadable(file: path, reason: error.detail + call)
        }
        defer { try? file.close() }
        let reader = Reader(file: file)
        return try reader.state()
    }

    /// What a checkpoint says of itself before it is verified: its format
    /// version and the run it belongs to (`/extra@run_id`), or nil for what
    /// cannot be read. Cheap (a few attributes, no tensor data), for sorting
    /// out a directory; never a reason to trust the file: `read(_:)` verifies.
    public static func peek(_ path: String) -> (formatVersion: Int?, runID: String?) {
        guard let file = try? HDF5File.open(path) else { return (nil, nil) }
        defer { try? file.close() }
        let version = (try? file.attribute("format_version", as: Int64.self)).map(Int.init)
        let runID = try? file.stringAttribute(runIDKey, on: "/extra")
        return (version, runID)
    }

    /// The `/extra` key that names the run a checkpoint belongs to (covered
    /// by the metadata checksum like every extra).
    public static let runIDKey = "run_id"

    /// The canonical text of everything in `state` but the tensor values,
    /// one `key=value` line each in a fixed order: numbers in decimal,
    /// floating-point hyper-parameters as the hex of their bits, strings as
    /// `<UTF-8 length>:<text>`, tensors as their names and shapes in order,
    /// sorted keys for the hyper-parameters and extras. Buffers
    /// (`buffer=<name> <shape>`, after the parameters' `tensor=` lines) and
    /// the scheduler (`scheduler.type=`, then each scalar as the hex of its
    /// bits and each list as `[hex,...]`, sorted by key, before the extras)
    /// add lines only when present, so older files verify unchanged.
    /// `metadata_crc32` is its CRC-32. `formatVersion` is the file's (the one read back when
    /// verifying), so a changed `format_version` fails the checksum too.
    public static func metadataText(of state: TrainingState, formatVersion: Int = formatVersion) -> String {
        func text(_ value: String) -> String { "\(value.utf8.count):\(value)" }
        var lines = [
            "format=" + text(formatName), "format_version=\(formatVersion)",
            "epoch=\(state.epoch)", "iteration=\(state.iteration)", "global_step=\(state.globalStep)",
            "samples_seen=\(state.samplesSeen)", "seed=\(state.seed)", "world_size=\(state.worldSize)",
            "batch_size=\(state.batchSize)", "model=" + text(state.model), "model_config=" + text(state.modelConfig),
            "dataset=" + text(state.dataset), "rng_state=" + state.rngState.map(String.init).joined(separator: ","),
            "created=" + text(state.created),
        ]
        func shapeText(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: ",") }
        func bits(_ value: Double) -> String { String(value.bitPattern, radix: 16) }
        let layout = state.parameters.layout
        for (name, shape) in zip(layout.names, layout.shapes) {
            lines.append("tensor=" + text(name) + " " + shapeText(shape))
        }
        let buffers = state.buffers.layout
        for (name, shape) in zip(buffers.names, buffers.shapes) {
            lines.append("buffer=" + text(name) + " " + shapeText(shape))
        }
        lines.append("optimizer.type=" + text(state.optimizer.type))
        lines.append("optimizer.step=\(state.optimizer.step)")
        for (name, value) in state.optimizer.hyperParameters.sorted(by: { $0.key < $1.key }) {
            lines.append("optimizer." + text(name) + "=" + bits(value))
        }
        lines.append("optimizer.state=" + state.optimizer.stateNames.map(text).joined(separator: ","))
        if let scheduler = state.scheduler {
            lines.append("scheduler.type=" + text(scheduler.type))
            for (key, value) in scheduler.scalars.sorted(by: { $0.key < $1.key }) {
                lines.append("scheduler." + text(key) + "=" + bits(value))
            }
            for (key, values) in scheduler.lists.sorted(by: { $0.key < $1.key }) {
                lines.append("scheduler." + text(key) + "=[" + values.map(bits).joined(separator: ",") + "]")
            }
        }
        for (key, value) in state.extra.sorted(by: { $0.key < $1.key }) {
            lines.append("extra." + text(key) + "=" + text(value))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The CRC-32 of `metadataText(of: state)`.
    static func metadataChecksum(of state: TrainingState, formatVersion: Int = formatVersion) -> UInt32 {
        var text = metadataText(of: state, formatVersion: formatVersion)
        return text.withUTF8 { CRC32.checksum(bytes: UnsafeRawBufferPointer($0)) }
    }

    // MARK: Writing

    /// Throws `.invalidState` unless `state` can be stored as it is.
    private static func check(_ state: TrainingState) throws {
        let count = state.parameters.layout.count
        guard state.parameters.values.count == count else {
            throw CheckpointError.invalidState("the parameters hold \(state.parameters.values.count) values "
                                               + "but their layout has \(count)")
        }
        for (name, buffer) in state.optimizer.buffers where buffer.count != count {
            throw CheckpointError.invalidState("optimizer state '\(name)' holds \(buffer.count) values "
                                               + "but the parameters have \(count)")
        }
        for name in state.optimizer.buffers.keys where name.isEmpty || name.contains("/") {
            throw CheckpointError.invalidState("optimizer state name '\(name)' must be non-empty without '/'")
        }
        for name in state.optimizer.hyperParameters.keys where Reader.reservedOptimizerAttributes.contains(name) {
            throw CheckpointError.invalidState("'\(name)' cannot be a hyper-parameter name: "
                                               + "it is an attribute of /optimizer already")
        }
        let buffers = state.buffers.layout
        guard state.buffers.values.count == buffers.count else {
            throw CheckpointError.invalidState("the buffers hold \(state.buffers.values.count) values "
                                               + "but their layout has \(buffers.count)")
        }
        for name in buffers.names where state.parameters.layout.index(of: name) != nil {
            throw CheckpointError.invalidState("'\(name)' is both a parameter and a buffer: "
                                               + "they share /model")
        }
        if let scheduler = state.scheduler {
            for key in Set(scheduler.scalars.keys).intersection(scheduler.lists.keys) {
                throw CheckpointError.invalidState("scheduler key '\(key)' is both a scalar and a list")
            }
            for key in Array(scheduler.scalars.keys) + Array(scheduler.lists.keys)
            where key.isEmpty || key == Reader.schedulerTypeAttribute {
                throw CheckpointError.invalidState("'\(key)' cannot be a scheduler key: "
                                                   + "keys are non-empty and 'type' is the attribute of the type")
            }
        }
    }

    private static func writeContents(_ state: TrainingState, to file: HDF5File) throws {
        try file.setAttribute("format", formatName)
        try file.setAttribute("format_version", Int64(formatVersion))
        try file.setAttribute("epoch", Int64(state.epoch))
        try file.setAttribute("iteration", Int64(state.iteration))
        try file.setAttribute("global_step", Int64(state.globalStep))
        try file.setAttribute("samples_seen", Int64(state.samplesSeen))
        try file.setAttribute("seed", state.seed)
        try file.setAttribute("world_size", Int64(state.worldSize))
        try file.setAttribute("batch_size", Int64(state.batchSize))
        try file.setAttribute("model", state.model)
        try file.setAttribute("model_config", state.modelConfig)
        try file.setAttribute("dataset", state.dataset)
        try file.setAttribute("rng_state", state.rngState)
        try file.setAttribute("created", state.created)
        try file.setAttribute("metadata_crc32", metadataChecksum(of: state))

        let layout = state.parameters.layout
        try file.createGroup("/model", tracksCreationOrder: true)
        try writeTensors(state.parameters.values, layout: layout, to: file) { "/model/\($0)" }
        try writeTensors(state.buffers.values, layout: state.buffers.layout, to: file) { "/model/\($0)" }
        for name in state.buffers.layout.names {
            try file.setAttribute(Reader.bufferAttribute, Int64(1), on: "/model/\(name)")
        }

        try file.createGroup("/optimizer", tracksCreationOrder: true)
        try file.setAttribute("type", state.optimizer.type, on: "/optimizer")
        try file.setAttribute("step", Int64(state.optimizer.step), on: "/optimizer")
        for (name, value) in state.optimizer.hyperParameters.sorted(by: { $0.key < $1.key }) {
            try file.setAttribute(name, value, on: "/optimizer")
        }
        let stateNames = state.optimizer.stateNames
        if !stateNames.isEmpty {
            for name in layout.names {
                try file.createGroup("/optimizer/\(name)", tracksCreationOrder: true)
            }
        }
        for stateName in stateNames {
            try writeTensors(state.optimizer.buffers[stateName]!, layout: layout, to: file) {
                "/optimizer/\($0)/\(stateName)"
            }
        }

        if let scheduler = state.scheduler {
            try file.createGroup("/scheduler")
            try file.setAttribute(Reader.schedulerTypeAttribute, scheduler.type, on: "/scheduler")
            for (key, value) in scheduler.scalars.sorted(by: { $0.key < $1.key }) {
                try file.setAttribute(key, value, on: "/scheduler")
            }
            for (key, values) in scheduler.lists.sorted(by: { $0.key < $1.key }) {
                try file.setAttribute(key, values, on: "/scheduler")
            }
        }

        try file.createGroup("/extra")
        for (key, value) in state.extra.sorted(by: { $0.key < $1.key }) {
            try file.setAttribute(key, value, on: "/extra")
        }
    }

    /// Writes each tensor of `values` as the dataset `datasetPath(name)`
    /// with its checksum, straight from the flat buffer (no copies).
    private static func writeTensors(_ values: [Float], layout: TensorLayout, to file: HDF5File,
                                     datasetPath: (String) -> String) throws {
        try values.withUnsafeBufferPointer { buffer in
            for (index, name) in layout.names.enumerated() {
                let path = datasetPath(name)
                let slice = UnsafeBufferPointer(rebasing: buffer[layout.range(of: index)])
                try file.writeDataset(path, shape: layout.shapes[index], values: slice)
                try file.setAttribute("crc32", CRC32.checksum(slice), on: path)
            }
        }
    }
}

/// Reads one open checkpoint file, turning every HDF5 failure into a
/// `CheckpointError` that names the file and the object.
private struct Reader {
    /// Attributes of `/optimizer` that are not hyper-parameters.
    static let reservedOptimizerAttributes: Set<String> = ["type", "step"]
    /// The attribute of a `/model` dataset that marks it as a buffer.
    static let bufferAttribute = "buffer"
    /// The attribute of `/scheduler` that names the schedule.
    static let schedulerTypeAttribute = "type"

    let file: HDF5File
    var path: String { file.path }

    func state() throws -> TrainingState {
        let format = try string("format")
        guard format == CheckpointFile.formatName else {
            throw CheckpointError.invalid(file: path, object: "/@format",
                                          reason: "'\(format)' is not '\(CheckpointFile.formatName)'")
        }
        let version = try int("format_version")
        guard version <= CheckpointFile.formatVersion else {
            throw CheckpointError.unsupportedVersion(file: path, version: version,
                                                     supported: CheckpointFile.formatVersion)
        }
        let (parameters, buffers) = try readModel()
        let optimizer = try readOptimizer(layout: parameters.layout)
        let scheduler = try readScheduler()
        var extra: [String: String] = [:]
        if try mapped({ try file.exists("/extra") }) {
            for key in try mapped({ try file.attributeNames(on: "/extra") }) {
                extra[key] = try string(key, on: "/extra")
            }
        }
        let state = TrainingState(
            parameters: parameters, optimizer: optimizer,
            epoch: try int("epoch"), iteration: try int("iteration"), globalStep: try int("global_step"),
            samplesSeen: try int("samples_seen"),
            seed: try mapped { try file.attribute("seed", as: UInt64.self) },
            worldSize: try int("world_size"), batchSize: try int("batch_size"),
            model: try string("model"), modelConfig: try string("model_config"), dataset: try string("dataset"),
            rngState: try mapped { try file.arrayAttribute("rng_state", as: UInt64.self) },
            created: try string("created"), extra: extra, buffers: buffers, scheduler: scheduler)
        let stored = try mapped { try file.attribute("metadata_crc32", as: UInt32.self) }
        let actual = CheckpointFile.metadataChecksum(of: state, formatVersion: version)
        guard stored == actual else {
            throw CheckpointError.metadataChecksumMismatch(file: path, expected: stored, actual: actual)
        }
        try checkValues(of: state)
        return state
    }

    /// Refuses values no training run can have saved (the trainer never
    /// checkpoints a non-finite state): a NaN or infinity in the model or
    /// the optimizer state, or a negative running variance. A checksum only
    /// says the bytes are the ones written; a file crafted with valid
    /// checksums would otherwise evaluate to chance and resume into NaN.
    private func checkValues(of state: TrainingState) throws {
        func firstNonFinite(_ tensors: FlatTensors, _ object: (String) -> String) throws {
            guard let bad = tensors.values.firstIndex(where: { !$0.isFinite }) else { return }
            let layout = tensors.layout
            let index = (0..<layout.names.count).first { layout.range(of: $0).contains(bad) }!
            throw CheckpointError.invalid(file: path, object: object(layout.names[index]),
                                          reason: "element \(bad - layout.range(of: index).lowerBound) is "
                                          + "\(tensors.values[bad]); a checkpoint holds finite values only")
        }
        try firstNonFinite(state.parameters) { "/model/\($0)" }
        try firstNonFinite(state.buffers) { "/model/\($0)" }
        for (name, values) in state.optimizer.buffers.sorted(by: { $0.key < $1.key }) {
            try firstNonFinite(FlatTensors(layout: state.parameters.layout, values: values)) { "/optimizer/\($0)/\(name)" }
        }
        let layout = state.buffers.layout
        for (index, name) in layout.names.enumerated() where name.hasSuffix("running_var") {
            if let negative = state.buffers.values[layout.range(of: index)].firstIndex(where: { $0 < 0 }) {
                throw CheckpointError.invalid(file: path, object: "/model/\(name)",
                                              reason: "element \(negative - layout.range(of: index).lowerBound) is "
                                              + "\(state.buffers.values[negative]); a variance is never negative")
            }
        }
    }

    /// `/model`: every dataset, in state_dict order, checksums verified,
    /// split into the parameters and the buffers (marked `buffer`).
    private func readModel() throws -> (parameters: FlatTensors, buffers: FlatTensors) {
        let children = try mapped { try file.children(of: "/model") }
        if let stray = children.first(where: { $0.kind != .dataset }) {
            throw CheckpointError.invalid(file: path, object: "/model/\(stray.name)",
                                          reason: "expected a float32 dataset, found a \(stray.kind)")
        }
        var parameterNames: [String] = []
        var bufferNames: [String] = []
        for name in children.map(\.name) {
            let dataset = "/model/\(name)"
            guard try mapped({ try file.attributeExists(Self.bufferAttribute, on: dataset) }) else {
                parameterNames.append(name)
                continue
            }
            let mark = try mapped { try file.attribute(Self.bufferAttribute, on: dataset, as: Int64.self) }
            guard mark == 1 else {
                throw CheckpointError.invalid(file: path, object: "\(dataset)@\(Self.bufferAttribute)",
                                              reason: "is \(mark), expected 1 (a buffer)")
            }
            bufferNames.append(name)
        }
        func tensors(_ names: [String]) throws -> FlatTensors {
            let shapes = try names.map { name in try mapped { try file.datasetShape("/model/\(name)") } }
            let layout = TensorLayout(names: names, shapes: shapes)
            return FlatTensors(layout: layout, values: try readTensors(layout: layout) { "/model/\($0)" })
        }
        return (try tensors(parameterNames), try tensors(bufferNames))
    }

    /// `/scheduler`, or nil when the file has none: its type, and every
    /// other attribute a float64 scalar (rank 0) or list (rank 1).
    private func readScheduler() throws -> SchedulerState? {
        let group = "/scheduler"
        guard let entry = try mapped({ try file.children() }).first(where: { "/" + $0.name == group }) else {
            return nil
        }
        guard entry.kind == .group else {
            throw CheckpointError.invalid(file: path, object: group, reason: "expected a group, found a \(entry.kind)")
        }
        let type = try string(Self.schedulerTypeAttribute, on: group)
        var scalars: [String: Double] = [:]
        var lists: [String: [Double]] = [:]
        for key in try mapped({ try file.attributeNames(on: group) }) where key != Self.schedulerTypeAttribute {
            let shape = try mapped { try file.attributeShape(key, on: group) }
            switch shape.count {
            case 0: scalars[key] = try mapped { try file.attribute(key, on: group, as: Double.self) }
            case 1: lists[key] = try mapped { try file.arrayAttribute(key, on: group, as: Double.self) }
            default:
                throw CheckpointError.invalid(file: path, object: "\(group)@\(key)",
                                              reason: "has shape \(shape); expected a float64 scalar or list")
            }
        }
        return SchedulerState(type: type, scalars: scalars, lists: lists)
    }

    /// `/optimizer`: type, step, hyper-parameters, and one buffer per state
    /// name with an entry for every parameter.
    private func readOptimizer(layout: TensorLayout) throws -> OptimizerState {
        let type = try string("type", on: "/optimizer")
        let step = try int("step", on: "/optimizer")
        var hyperParameters: [String: Double] = [:]
        for name in try mapped({ try file.attributeNames(on: "/optimizer") })
        where !Self.reservedOptimizerAttributes.contains(name) {
            hyperParameters[name] = try mapped { try file.attribute(name, on: "/optimizer", as: Double.self) }
        }

        let groups = try mapped { try file.children(of: "/optimizer") }
        for group in groups where group.kind != .group || layout.index(of: group.name) == nil {
            throw CheckpointError.invalid(file: path, object: "/optimizer/\(group.name)",
                                          reason: "optimizer state for a parameter that /model does not have")
        }
        var stateNames: [String] = []
        if !groups.isEmpty {
            let first = layout.names[0]
            stateNames = try mapped { try file.children(of: "/optimizer/\(first)") }.map(\.name).sorted()
            for name in layout.names {
                let object = "/optimizer/\(name)"
                guard groups.contains(where: { $0.name == name }) else {
                    throw CheckpointError.invalid(file: path, object: object,
                                                  reason: "missing: parameter '\(name)' has no optimizer state")
                }
                let found = try mapped { try file.children(of: object) }.map(\.name).sorted()
                guard found == stateNames else {
                    throw CheckpointError.invalid(
                        file: path, object: object,
                        reason: "holds state \(found) but /optimizer/\(first) holds \(stateNames)")
                }
            }
        }
        var buffers: [String: [Float]] = [:]
        for stateName in stateNames {
            buffers[stateName] = try readTensors(layout: layout) { "/optimizer/\($0)/\(stateName)" }
        }
        return OptimizerState(type: type, hyperParameters: hyperParameters, step: step, buffers: buffers)
    }

    /// Reads every tensor of `layout` from `datasetPath(name)` into one flat
    /// buffer, checking each shape and checksum.
    private func readTensors(layout: TensorLayout, datasetPath: (String) -> String) throws -> [Float] {
        var values = [Float](repeating: 0, count: layout.count)
        try values.withUnsafeMutableBufferPointer { buffer in
            for (index, name) in layout.names.enumerated() {
                let dataset = datasetPath(name)
                let shape = try mapped { try file.datasetShape(dataset) }
                guard shape == layout.shapes[index] else {
                    throw CheckpointError.invalid(
                        file: path, object: dataset,
                        reason: "has shape \(shape) but /model/\(name) has \(layout.shapes[index])")
                }
                let slice = UnsafeMutableBufferPointer(rebasing: buffer[layout.range(of: index)])
                _ = try mapped { try file.readDataset(dataset, into: slice) }
                let stored = try mapped { try file.attribute("crc32", on: dataset, as: UInt32.self) }
                let actual = CRC32.checksum(UnsafeBufferPointer(slice))
                guard stored == actual else {
                    throw CheckpointError.checksumMismatch(file: path, dataset: dataset, expected: stored,
                                                           actual: actual)
                }
            }
        }
        return values
    }

    private func int(_ name: String, on object: String = "/") throws -> Int {
        Int(try mapped { try file.attribute(name, on: object, as: Int64.self) })
    }

    private func string(_ name: String, on object: String = "/") throws -> String {
        try mapped { try file.stringAttribute(name, on: object) }
    }

    /// Runs `body`, turning an `HDF5Error` into a `CheckpointError`: a
    /// missing or mistyped object is `.invalid`, anything the library itself
    /// refused (unreadable or damaged data) is `.unreadable`.
    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HDF5Error {
            switch error.kind {
            case .notFound:
                throw CheckpointError.invalid(file: path, object: error.objectPath,
                                              reason: "required but missing (\(error.detail))")
            case .wrongType, .wrongShape:
                throw CheckpointError.invalid(file: path, object: error.objectPath, reason: error.detail)
            case .library, .closed:
                let call = error.function.isEmpty ? "" : " (\(error.function))"
                throw CheckpointError.unreadable(
                    file: path, reason: "'\(error.objectPath)': cannot \(error.operation)\(call): \(error.detail)")
            }
        }
    }
}
