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
///     /optimizer                       group; its attributes:
///         type             str         "sgd" or "adam"
///         step             int64       optimizer steps taken
///         <hyper-parameter> float64    one per hyper-parameter: lr, momentum, dampening,
///                                      nesterov (0/1), beta1, beta2, eps, weight_decay, ...
///     /optimizer/<name>/<state>        float32, shaped like /model/<name>, with its own crc32:
///                                      momentum_buffer (SGD with momentum); exp_avg and
///                                      exp_avg_sq (Adam). No groups when there is no state.
///     /extra                           group; one str attribute per extra entry
///                                      (e.g. the trainer configuration as JSON)
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
///         state_dict = {k: torch.from_numpy(v[()]) for k, v in f["model"].items()}
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
    /// Not atomic by itself: `CheckpointDirectory.save(_:)` writes to a
    /// temporary name and moves the finished file into place. Throws
    /// `CheckpointError.invalidState` for a state that cannot be stored, or
    /// the `HDF5Error` of a failed write (which names the file).
    public static func write(_ state: TrainingState, to path: String) throws {
        try check(state)
        let file = try HDF5File.create(path)
        do {
            try writeContents(state, to: file)
            try file.close()
        } catch {
            try? file.close()
            throw error
        }
    }

    /// Reads the checkpoint at `path`, verifying that every required
    /// attribute is there with the right type, that optimizer state matches
    /// the parameters, every dataset's checksum and the metadata checksum.
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

    /// The canonical text of everything in `state` but the tensor values,
    /// one `key=value` line each in a fixed order: numbers in decimal,
    /// floating-point hyper-parameters as the hex of their bits, strings as
    /// `<UTF-8 length>:<text>`, tensors as their names and shapes in order,
    /// sorted keys for the hyper-parameters and extras. `metadata_crc32` is
    /// its CRC-32.
    public static func metadataText(of state: TrainingState) -> String {
        func text(_ value: String) -> String { "\(value.utf8.count):\(value)" }
        var lines = [
            "format=" + text(formatName), "format_version=\(formatVersion)",
            "epoch=\(state.epoch)", "iteration=\(state.iteration)", "global_step=\(state.globalStep)",
            "samples_seen=\(state.samplesSeen)", "seed=\(state.seed)", "world_size=\(state.worldSize)",
            "batch_size=\(state.batchSize)", "model=" + text(state.model), "model_config=" + text(state.modelConfig),
            "dataset=" + text(state.dataset), "rng_state=" + state.rngState.map(String.init).joined(separator: ","),
            "created=" + text(state.created),
        ]
        let layout = state.parameters.layout
        for (name, shape) in zip(layout.names, layout.shapes) {
            lines.append("tensor=" + text(name) + " " + shape.map(String.init).joined(separator: ","))
        }
        lines.append("optimizer.type=" + text(state.optimizer.type))
        lines.append("optimizer.step=\(state.optimizer.step)")
        for (name, value) in state.optimizer.hyperParameters.sorted(by: { $0.key < $1.key }) {
            lines.append("optimizer." + text(name) + "=" + String(value.bitPattern, radix: 16))
        }
        lines.append("optimizer.state=" + state.optimizer.stateNames.map(text).joined(separator: ","))
        for (key, value) in state.extra.sorted(by: { $0.key < $1.key }) {
            lines.append("extra." + text(key) + "=" + text(value))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The CRC-32 of `metadataText(of: state)`.
    static func metadataChecksum(of state: TrainingState) -> UInt32 {
        var text = metadataText(of: state)
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
        let parameters = try readParameters()
        let optimizer = try readOptimizer(layout: parameters.layout)
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
            created: try string("created"), extra: extra)
        let stored = try mapped { try file.attribute("metadata_crc32", as: UInt32.self) }
        let actual = CheckpointFile.metadataChecksum(of: state)
        guard stored == actual else {
            throw CheckpointError.metadataChecksumMismatch(file: path, expected: stored, actual: actual)
        }
        return state
    }

    /// `/model`: every dataset, in state_dict order, checksums verified.
    private func readParameters() throws -> FlatTensors {
        let children = try mapped { try file.children(of: "/model") }
        if let stray = children.first(where: { $0.kind != .dataset }) {
            throw CheckpointError.invalid(file: path, object: "/model/\(stray.name)",
                                          reason: "expected a float32 dataset, found a \(stray.kind)")
        }
        let names = children.map(\.name)
        let shapes = try names.map { name in try mapped { try file.datasetShape("/model/\(name)") } }
        let layout = TensorLayout(names: names, shapes: shapes)
        let values = try readTensors(layout: layout) { "/model/\($0)" }
        return FlatTensors(layout: layout, values: values)
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
