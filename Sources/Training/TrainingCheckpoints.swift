import Checkpoint
import Collective
import DataLoading
import DataParallel
import Foundation
import HDF5
import NN
import Optim
import RunLog
import TensorCore

/// Converting between a running trainer and a `TrainingState`, and choosing
/// the checkpoint a run resumes from.
///
/// Rank 0 alone reads and validates a checkpoint; it then broadcasts the
/// position, the parameters and the optimizer state, so every rank resumes
/// identical whatever the world size was when it was saved.
extension Trainer {
    /// What resuming checks of the training set: its size, shapes and an
    /// FNV-1a checksum over the features and labels of up to 64 samples
    /// spread across it (not every sample: 60,000 would cost a pass over the data).
    var trainingFingerprint: String {
        let n = trainSet.count, size = trainSet.sampleSize, targetSize = trainSet.targetSize
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: UnsafeRawBufferPointer) { for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01B3 } }
        var sample = [Float](repeating: 0, count: max(size, targetSize, 1))
        let picks = n <= 64 ? Array(0..<n) : (0..<64).map { $0 * (n - 1) / 63 }
        for index in picks {
            var label = sample.withUnsafeMutableBufferPointer { trainSet.copySample(at: index, into: $0.baseAddress!) }
            sample.withUnsafeBytes { mix(UnsafeRawBufferPointer(rebasing: $0.prefix(size * 4))) }
            withUnsafeBytes(of: &label) { mix($0) }
            if targetSize > 0 {
                sample.withUnsafeMutableBufferPointer { trainSet.copyTarget(at: index, into: $0.baseAddress!) }
                sample.withUnsafeBytes { mix(UnsafeRawBufferPointer(rebasing: $0.prefix(targetSize * 4))) }
            }
        }
        let shape = trainSet.sampleShape.map(String.init).joined(separator: "x")
        let target = trainSet.targetShape.isEmpty ? "label" : trainSet.targetShape.map(String.init).joined(separator: "x")
        return "\(n) samples of \(shape), target \(target), checksum \(String(hash, radix: 16))"
    }

    /// The layout of the parameters, as the checkpoint stores it.
    var tensorLayout: TensorLayout {
        TensorLayout(names: parameters.names, shapes: parameters.tensors.map(\.shape))
    }

    /// The model's configuration as the checkpoint's `model_config` JSON.
    var modelConfigJSON: String { identity.configJSON }

    /// The optimizer's state in the full layout of the parameters, by state
    /// name, on rank 0 (empty elsewhere): a sharded optimizer's runs are
    /// gathered from every rank, so a checkpoint is the same file whether
    /// or not the optimizer was sharded, and at any world size. Collective
    /// when sharded: every rank must call it at the same step.
    func gatheredOptimizerState() throws -> [String: [Float]] {
        var buffers: [String: [Float]] = [:]
        for name in optimizer.stateNames {
            guard let buffer = optimizer.stateBuffer(name) else { continue }
            guard let shards, let communicator else {
                if rank == 0 { buffers[name] = Array(buffer.buffer) }
                continue
            }
            var whole = [Float](repeating: 0, count: rank == 0 ? parameters.count : 0)
            try whole.withUnsafeMutableBufferPointer {
                try communicator.gather(UnsafeBufferPointer(buffer.buffer), into: $0, runs: shards.runs)
            }
            if rank == 0 { buffers[name] = whole }
        }
        return buffers
    }

    /// The directory of this run's checkpoints.
    var checkpointDirectory: String { options.checkpointDirectory ?? "runs/\(identity.name)" }

    /// A copy of everything exact resumption needs, taken between steps:
    /// the tensors, `runState` and the settings a resume checks;
    /// `optimizerBuffers` from `gatheredOptimizerState()`.
    func snapshot(optimizerBuffers buffers: [String: [Float]]) -> TrainingState {
        let layout = tensorLayout
        return TrainingState(
            parameters: FlatTensors(layout: layout, copying: UnsafeBufferPointer(parameters.values.buffer)),
            optimizer: OptimizerState(type: optimizer.typeName, hyperParameters: optimizer.hyperParameters,
                                      step: optimizer.stepCount, buffers: buffers),
            epoch: runState.epoch, iteration: runState.iteration, globalStep: globalStep,
            samplesSeen: globalStep * options.batchSize, seed: options.seed, worldSize: worldSize,
            batchSize: options.batchSize, model: identity.name, modelConfig: modelConfigJSON,
            dataset: datasetName, rngState: generatorState,
            extra: extras(), buffers: bufferSnapshot(), scheduler: schedulerState(epoch: runState.epoch))
    }

    /// The model's buffers (BatchNorm running statistics) by state_dict name.
    private func bufferSnapshot() -> FlatTensors {
        let named = model.namedBuffers()
        guard !named.isEmpty else { return .empty }
        let layout = TensorLayout(names: named.map(\.name), shapes: named.map(\.tensor.shape))
        var values: [Float] = []
        values.reserveCapacity(layout.count)
        for (_, tensor) in named { values += UnsafeBufferPointer(start: tensor.data, count: tensor.count) }
        return FlatTensors(layout: layout, values: values)
    }

    /// Copies a checkpoint's buffers into the model's (the layout was checked).
    private func restoreBuffers(_ buffers: FlatTensors) {
        for (name, tensor) in model.namedBuffers() {
            guard let values = buffers[name], values.count == tensor.count else { continue }
            values.withUnsafeBufferPointer { tensor.data.update(from: $0.baseAddress!, count: tensor.count) }
        }
    }

    /// Gives every rank rank 0's buffers (at start and on resume), as DDP's
    /// broadcast_buffers does; with SyncBatchNorm they then stay equal.
    static func broadcastBuffers(of model: any Module, communicator: Communicator?) throws {
        guard let communicator, communicator.size > 1 else { return }
        for (_, tensor) in model.namedBuffers() {
            try communicator.broadcast(UnsafeMutableBufferPointer(start: tensor.data, count: tensor.count), root: 0)
        }
    }

    /// The `/extra` attributes: the run state's records, the settings a
    /// resume checks, the mode and what the bits depend on (`Provenance`).
    private func extras() -> [String: String] {
        var extra = ["optimizer_lr": String(baseLearningRate), "data_fingerprint": trainingFingerprint,
                     "deterministic": plan == nil ? "false" : "true", "shuffle": String(options.shuffle),
                     "validation_fraction": String(options.validationFraction)]
        extra.merge(runState.extras(keepBest: options.keepBest)) { $1 }
        extra["clip_grad_norm"] = options.clipGradientNorm.map { String($0) } ?? "none"
        extra["accumulate"] = String(options.accumulate)
        extra["bits_blas_threads"] = String(options.threads)
        extra[CheckpointFile.runIDKey] = runID
        if let dataChecksums {
            extra["data_checksum"] = dataChecksums.train
            extra["test_checksum"] = dataChecksums.test
        }
        extra.merge(Provenance.current.extras) { $1 }
        return extra
    }

    /// Sixteen random hex digits: a run's id.
    static func newRunID() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = String(generator.next() as UInt64, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Rank 0: the checkpoint `--resume` asks for, validated against this
    /// run, or nil to start afresh; sets `runID`.
    ///
    /// A directory holds one run's history. Every checkpoint records its run
    /// id, and a run that would mix its checkpoints with files it does not
    /// continue (`--resume never` where checkpoints exist, `--resume PATH`
    /// from another run or from a point the directory has gone past) is
    /// refused before anything is written, unless `--overwrite` moves those
    /// files into a `replaced-<time>` folder. Otherwise the next `--resume
    /// auto` could take the old run's newer file. Nothing is deleted.
    func findCheckpoint() throws -> LoadedCheckpoint? {
        let c = options
        let directory = CheckpointDirectory(c.checkpointDirectory ?? "runs/\(identity.name)")
        let loaded: LoadedCheckpoint
        switch c.resume {
        case .never:
            let existing = try directory.checkpoints()
            let best = directory.path(of: Self.bestFileName)
            let hasBest = FileManager.default.fileExists(atPath: best)
            if let newest = existing.last {
                try takeOver(directory, conflicts: existing, best: hasBest,
                             why: "--resume never: \(directory.path) already holds \(existing.count) "
                             + "checkpoint\(existing.count == 1 ? "" : "s") of an earlier run (newest \(newest.path))"
                             + (hasBest ? " and its best model \(best)" : ""),
                             resumeHint: "continue that run with --resume auto, ")
            } else if hasBest {
                try takeOver(directory, conflicts: [], best: true,
                             why: "--resume never: \(directory.path) holds the best model of an earlier run (\(best)), "
                             + "which this run would take for its own", resumeHint: "")
            }
            return nil
        case .auto:
            guard FileManager.default.fileExists(atPath: directory.path) else { return nil }
            let search: CheckpointSearch
            do {
                search = try directory.latestValid()
            } catch CheckpointError.unsupportedVersion(let file, let version, let supported) {
                throw TrainingError.checkpoint(
                    "--resume auto: \(file) has format_version \(version), and this program reads \(supported) and older: a newer "
                    + "SwiftDDP wrote it. Nothing was changed; resume it with that version, or start a new run in another "
                    + "--checkpoint-dir (--resume never --overwrite moves the directory's checkpoints aside)")
            }
            for temporary in search.temporaryFiles {
                progress.log("note: ignoring \(temporary), left by a save that never finished (the run was stopped "
                             + "mid-write); the complete checkpoints are untouched and the next save deletes it")
            }
            for skipped in search.skipped { progress.log("warning: skipping checkpoint \(skipped.path): \(skipped.reason)") }
            guard let found = search.checkpoint else {
                if search.skipped.isEmpty { return nil }
                throw TrainingError.checkpoint("no valid checkpoint in \(directory.path) (all \(search.skipped.count) are damaged, see above); "
                                               + "use --resume never --overwrite or another --checkpoint-dir to start afresh")
            }
            let damaged = Set(search.skipped.map(\.path))
            let foreign = try directory.checkpoints().filter {
                !damaged.contains($0.path) && !Self.sameRun(CheckpointFile.peek($0.path).runID, found.runID)
            }
            if !foreign.isEmpty {
                throw TrainingError.checkpoint(
                    "--resume auto: \(directory.path) holds checkpoints of more than one run: the newest valid one, \(found.path), "
                    + "belongs to run \(found.runID ?? "(none recorded)"), but \(foreign.map(\.path).joined(separator: ", ")) "
                    + "belong\(foreign.count == 1 ? "s" : "") to another. Nothing was changed; move one run's files to "
                    + "another directory, or resume one file with --resume PATH --overwrite")
            }
            try moveLaterBestAside(directory, resumingFrom: found)
            loaded = found
        case .path(let path):
            do {
                loaded = LoadedCheckpoint(path: path, state: try CheckpointFile.read(path))
            } catch {
                throw TrainingError.checkpoint("--resume \(path): \(error)")
            }
            let chosen = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            let conflicts = try directory.checkpoints().filter { entry in
                URL(fileURLWithPath: entry.path).resolvingSymlinksInPath().path != chosen
                    && (!Self.sameRun(CheckpointFile.peek(entry.path).runID, loaded.runID)
                        || entry.globalStep > loaded.state.globalStep)
            }
            let best = directory.path(of: Self.bestFileName)
            // best.h5 of another run, or of this run's epochs after the
            // chosen file: the resumed run would replace it with a worse model.
            let foreignBest = FileManager.default.fileExists(atPath: best)
                && (!Self.sameRun(CheckpointFile.peek(best).runID, loaded.runID)
                    || Self.globalStep(of: best).map { $0 > loaded.state.globalStep } ?? false)
            if !conflicts.isEmpty || foreignBest {
                try takeOver(directory, conflicts: conflicts, best: foreignBest,
                             why: "--resume \(path): \(directory.path) holds files that this run would not continue "
                             + "(\((conflicts.map(\.path) + (foreignBest ? [best] : [])).joined(separator: ", ")): another run's, "
                             + "or later steps of this one)",
                             resumeHint: "")
            }
        }
        // Before the checks: the training set's fingerprint depends on the
        // validation split, drawn in the checkpoint's order (an unknown order
        // is refused by the checks).
        if let scheme = Self.sampleOrderScheme(ofCheckpointExtras: loaded.state.extra) { try adopt(scheme) }
        try check(loaded)
        runID = loaded.runID ?? Self.newRunID()
        resumesUnmarkedRun = loaded.runID == nil
        return loaded
    }

    /// `--resume auto` past damaged checkpoints repeats their epochs, and
    /// `best.h5` may be the best of those epochs: the repeat would replace
    /// it. It is moved into a `replaced-<time>` folder first (with a note;
    /// nothing deleted), as `--overwrite` does for `--resume PATH`, but
    /// without asking: auto is how `./launch` restarts, unattended.
    private func moveLaterBestAside(_ directory: CheckpointDirectory, resumingFrom found: LoadedCheckpoint) throws {
        let best = directory.path(of: Self.bestFileName)
        guard let bestStep = Self.globalStep(of: best), bestStep > found.state.globalStep else { return }
        let folder = try directory.moveAside([], alongWith: [Self.bestFileName])
        progress.log("note: \(best) holds step \(bestStep), past \(found.path), the newest valid checkpoint; the run repeats "
                     + "those steps and could replace it, so it was moved into \(folder) (nothing deleted)")
    }

    /// The `global_step` a checkpoint says it holds, unverified (nil when
    /// it cannot be read).
    private static func globalStep(of path: String) -> Int? {
        guard let file = try? HDF5File.open(path) else { return nil }
        defer { try? file.close() }
        return (try? file.attribute("global_step", as: Int64.self)).map(Int.init)
    }

    /// Two run ids belong to the same run; a file written before run ids
    /// existed (nil) is taken to belong to any run.
    private static func sameRun(_ a: String?, _ b: String?) -> Bool {
        a == nil || b == nil || a == b
    }

    /// With `--overwrite`, moves `conflicts` (and `best.h5` when `best`) aside
    /// (logged); without, refuses the run with `why` and the ways forward.
    private func takeOver(_ directory: CheckpointDirectory, conflicts: [CheckpointEntry], best: Bool = false,
                          why: String, resumeHint: String) throws {
        guard options.overwrite else {
            throw TrainingError.checkpoint(why + ". Nothing was changed: " + resumeHint + "pass --overwrite to move those files "
                                           + "into \(directory.path)/replaced-<time>/ and go on, or choose another --checkpoint-dir")
        }
        let folder = try directory.moveAside(conflicts, alongWith: best ? [Self.bestFileName] : [])
        progress.log("--overwrite: moved \(conflicts.count) checkpoint\(conflicts.count == 1 ? "" : "s")"
                     + (best ? " and the best model" : "") + " of \(directory.path) into \(folder) (nothing deleted)")
    }

    /// Refuses `loaded` unless it fits this run: the model, the optimizer
    /// and its hyper-parameters (but those in `--override`, logged), the
    /// batch, seed, data set, shuffling and the position.
    private func check(_ loaded: LoadedCheckpoint) throws {
        let c = options
        let expectation = CheckpointExpectation(model: identity.name, modelConfig: modelConfigJSON, parameters: tensorLayout,
                                                optimizerType: optimizer.typeName, optimizerStateNames: optimizer.stateNames,
                                                buffers: bufferSnapshot().layout)
        var differences = expectation.differences(from: loaded.state)
        let state = loaded.state
        if state.optimizer.type == optimizer.typeName {
            for (name, value) in optimizer.hyperParameters.sorted(by: { $0.key < $1.key }) {
                // Under a schedule the optimizer's lr is the scheduled one: compare the base rates.
                let savedBase = name == "lr" ? state.extra["optimizer_lr"].flatMap(Float.init).map(Double.init) : nil
                guard let saved = savedBase ?? state.optimizer.hyperParameters[name], saved != value else { continue }
                let setting = OverridableSetting(rawValue: name)
                let flag = setting?.key.flag ?? name
                // Stored as the Double of a Float: shown as the Float the user typed.
                if let setting, c.overrides.contains(setting) {
                    progress.log("--override \(name): the checkpoint's optimizer had \(name) \(Float(saved)); "
                                 + "this run goes on with \(Float(value)) from global step \(state.globalStep)")
                } else {
                    differences.append("\(flag): the checkpoint's optimizer has \(name) \(Float(saved)), this run asks for \(Float(value))"
                                       + (setting.map { " (--override \($0.rawValue) changes it on purpose)" } ?? ""))
                }
            }
        }
        if state.batchSize != c.batchSize {
            differences.append("--batch-size: the checkpoint was trained with global batch \(state.batchSize), this run asks for \(c.batchSize)")
        }
        if state.seed != c.seed {
            differences.append("--seed: the checkpoint's data order comes from seed \(state.seed), this run asks for \(c.seed)")
        }
        if state.dataset != datasetName {
            // A file's data set (--data) is its contents, however its path is
            // spelled: the fingerprint of the training set decides.
            let catalog = Set(DatasetCatalog.names)
            if !catalog.contains(state.dataset) && !catalog.contains(datasetName),
               let saved = state.extra["data_fingerprint"], saved == trainingFingerprint {
                progress.log("note: the checkpoint was trained on \(state.dataset), this run reads \(datasetName): the same "
                             + "training set (fingerprint \(saved))")
            } else {
                differences.append("--dataset: the checkpoint was trained on \(state.dataset), this run asks for \(datasetName)")
            }
        }
        if let saved = state.extra["shuffle"], saved != String(c.shuffle) {
            differences.append("--no-shuffle: the checkpoint's run \(saved == "true" ? "shuffled" : "kept the data set's order"), "
                               + "this run \(c.shuffle ? "shuffles" : "keeps the order"); the sample order would change mid-run")
        }
        if let saved = state.extra["data_fingerprint"], saved != trainingFingerprint {
            differences.append("training set: the checkpoint's was \(saved), this run's is \(trainingFingerprint)")
        } else if let saved = state.extra["data_checksum"], let now = dataChecksums?.train, saved != now {
            differences.append("training set: its contents changed since the checkpoint (checksum \(saved) then, \(now) now)")
        }
        if let saved = state.extra["test_checksum"], let now = dataChecksums?.test, saved != now {
            differences.append("test set: its contents changed since the checkpoint (checksum \(saved) then, \(now) now); "
                               + "the best model and early stopping would compare figures of two test sets")
        }
        if let saved = state.extra["validation_fraction"].flatMap(Double.init), saved != c.validationFraction {
            differences.append("--val-fraction: the checkpoint's run held out \(saved) of the training set, this run asks for \(c.validationFraction)")
        }
        differences += scheduleDifferences(state.scheduler, counter: c.schedule.unit == .epoch ? state.epoch : state.globalStep)
        if let saved = state.extra["best_metric"], let metric = c.keepBest, saved != metric.description {
            differences.append("--keep-best: the checkpoint's run keeps the best \(saved), this run asks for \(metric); "
                               + "its best value so far would be read as the other metric's")
        }
        let clip = c.clipGradientNorm.map { String($0) } ?? "none"
        if let saved = state.extra["clip_grad_norm"], saved != clip {
            differences.append("--clip-grad-norm: the checkpoint's run clipped at \(saved), this run asks for \(clip)")
        }
        if let saved = state.extra["accumulate"], saved != String(c.accumulate), !c.deterministic {
            // Rounding only for models without batch statistics: BatchNorm
            // normalises each pass by that pass's samples, so passes of
            // another size train another model (measured: 1.1% apart in
            // parameters after 20 steps, against 8e-6 for the mlp).
            let batchStatistics = !model.namedBuffers().isEmpty
            progress.log("note: --accumulate \(c.accumulate) (the checkpoint's run used \(saved)): the same global batch in "
                         + "another number of passes, "
                         + (batchStatistics ? "but this model's BatchNorm normalises each pass by its own samples, so the "
                            + "continuation is not the uninterrupted run's: it differs beyond rounding (resume with "
                            + "--accumulate \(saved) to continue it exactly)" : "equal up to rounding"))
        }
        if Self.sampleOrderScheme(ofCheckpointExtras: state.extra) == nil {
            differences.append("sample order: the checkpoint's run draws its samples in the order "
                               + "'\(state.extra[Self.sampleOrderKey] ?? "")', which this program does not know (a newer "
                               + "SwiftDDP wrote it; this one knows \(SampleOrder.Scheme.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        differences += Self.positionProblems(of: loaded, stepsPerEpoch: stepsPerEpoch)
        differences += Self.recordProblems(of: loaded.state)
        guard differences.isEmpty else {
            throw TrainingError.checkpoint("checkpoint \(loaded.path) does not match this run: " + differences.joined(separator: "; ")
                                           + ". Nothing was changed; use --resume never --overwrite or another --checkpoint-dir to start afresh")
        }
    }

    /// What is wrong with `loaded`'s position, read from a file that may
    /// have been crafted: every count is non-negative, the step within the
    /// epoch fits the epoch, the global step is where the epoch and step
    /// put it (computed without overflow), and a file named for a step
    /// (`ckpt-<step>.h5`) holds that step, so the run's next saves cannot
    /// land on another checkpoint's name.
    static func positionProblems(of loaded: LoadedCheckpoint, stepsPerEpoch: Int) -> [String] {
        let state = loaded.state
        var problems: [String] = []
        if state.epoch < 0 || state.iteration < 0 || state.globalStep < 0 {
            problems.append("position: epoch \(state.epoch), step \(state.iteration), global step \(state.globalStep): "
                            + "none may be negative")
        } else if state.iteration > stepsPerEpoch {
            problems.append("position: step \(state.iteration) of an epoch of \(stepsPerEpoch) steps")
        } else {
            let (epochSteps, overflow) = state.epoch.multipliedReportingOverflow(by: stepsPerEpoch)
            if overflow || epochSteps.addingReportingOverflow(state.iteration) != (state.globalStep, false) {
                problems.append("position: epoch \(state.epoch) and step \(state.iteration) at \(stepsPerEpoch) steps per epoch "
                                + "do not make global step \(state.globalStep)")
            }
        }
        if let named = CheckpointDirectory.globalStep(fromFileName: URL(fileURLWithPath: loaded.path).lastPathComponent),
           named != state.globalStep {
            problems.append("position: the file is named for step \(named) but holds global step \(state.globalStep)")
        }
        return problems
    }

    /// What is wrong with the running records `state` carries, read from a
    /// file that may have been crafted: the optimizer has taken one step per
    /// global step (Adam's bias correction divides by a power of its step
    /// count), the epoch's loss sum and samples are finite and fit the steps
    /// taken in it, the gradient-norm steps fit them too, and `--keep-best`'s
    /// record names a finite value and epochs the run has evaluated. A record
    /// read as something else would continue the run from another state
    /// (a NaN loss, a wrong train_loss, a best.h5 replaced by a worse model).
    static func recordProblems(of state: TrainingState) -> [String] {
        var problems: [String] = []
        if !(1...Int(Int32.max)).contains(state.worldSize) {
            problems.append("record: world size \(state.worldSize); an MPI job has from 1 to \(Int32.max) ranks")
        }
        let (seenAtMost, seenOverflow) = max(state.globalStep, 0).multipliedReportingOverflow(by: max(state.batchSize, 0))
        if state.samplesSeen < 0 || (!seenOverflow && state.samplesSeen > seenAtMost) {
            problems.append("record: \(state.samplesSeen) samples seen, not from 0 to \(seenAtMost) "
                            + "(\(state.globalStep) steps of global batch \(state.batchSize))")
        }
        if state.rngState.count != 4 || state.rngState.allSatisfy({ $0 == 0 }) {
            problems.append("record: the generator state holds \(state.rngState.count) word(s)"
                            + (state.rngState.count == 4 ? ", all zero" : "") + "; xoshiro256** keeps 4, not all zero")
        }
        if state.optimizer.step != state.globalStep {
            problems.append("optimizer: step \(state.optimizer.step), but the run has taken \(state.globalStep) optimizer steps "
                            + "(global step); they are always equal")
        }
        func number<T: LosslessStringConvertible>(_ key: String, as type: T.Type) -> T?? {
            guard let text = state.extra[key] else { return .some(nil) }
            guard let value = T(text) else {
                problems.append("record: extra '\(key)' is '\(text.prefix(40))', not a number")
                return nil
            }
            return .some(value)
        }
        let iterations = max(state.iteration, 0)
        let (batchSamples, overflow) = iterations.multipliedReportingOverflow(by: max(state.batchSize, 0))
        if case let value?? = number(RunState.epochLossSumKey, as: Double.self), !value.isFinite || value < 0 {
            problems.append("record: the epoch's loss sum is \(value); it is finite and not negative")
        }
        if case let value?? = number(RunState.epochSamplesKey, as: Double.self),
           !(value >= 0 && (overflow || value <= Double(batchSamples))) {
            problems.append("record: the epoch's samples are \(value), not from 0 to \(batchSamples) "
                            + "(\(iterations) steps of global batch \(state.batchSize))")
        }
        if case let value?? = number(RunState.gradientNormStepsKey, as: Int.self), !(0...iterations).contains(value) {
            problems.append("record: \(value) gradient-norm steps in an epoch at step \(iterations)")
        }
        if case let bits?? = number(RunState.gradientNormSumKey, as: UInt64.self) {
            let value = Double(bitPattern: bits)
            if !value.isFinite || value < 0 {
                problems.append("record: the epoch's gradient-norm sum is \(value); it is finite and not negative")
            }
        }
        let evaluated = max(state.epoch, 0)
        if case let bits?? = number("best_value_bits", as: UInt64.self), !Double(bitPattern: bits).isFinite {
            problems.append("--keep-best: the best value so far is \(Double(bitPattern: bits)); it is finite")
        }
        for key in ["best_epoch", "epochs_without_improvement"] {
            if case let value?? = number(key, as: Int.self), !(0...evaluated).contains(value) {
                problems.append("--keep-best: extra '\(key)' is \(value), not from 0 to the \(evaluated) epoch(s) evaluated")
            }
        }
        return problems
    }

    /// Rank 0's `whole` optimizer state (the checkpoint's, full layout) into
    /// every rank's optimizer: each rank's run when sharded (a scatter), else
    /// all of it (a broadcast). Collective on a multi-rank job.
    private func distribute(_ whole: [String: [Float]]) throws {
        for name in optimizer.stateNames {
            guard let buffer = optimizer.stateBuffer(name) else { continue }
            // Every rank takes part whether or not rank 0 found this state
            // (a checkpoint without it leaves zeros, as a fresh optimizer).
            let values = rank == 0 ? whole[name] ?? [Float](repeating: 0, count: parameters.count) : []
            if let shards, let communicator {
                try values.withUnsafeBufferPointer { try communicator.scatter($0, into: buffer.buffer, runs: shards.runs) }
            } else {
                if rank == 0 { values.withUnsafeBufferPointer { _ = buffer.buffer.update(fromContentsOf: $0) } }
                if let communicator, worldSize > 1 { try communicator.broadcast(buffer.buffer, root: 0) }
            }
        }
    }

    /// Loads `--resume`'s checkpoint on rank 0 and gives it to every rank:
    /// the parameters, buffers and optimizer state, and `runState` (one
    /// broadcast of it); fixes the deterministic mode's micro-batches (the
    /// checkpoint's, unless `--micro-batches` says otherwise).
    func restore() throws {
        var found = false
        var restored = RunState()
        var rng = generatorState
        /// Rank 0: the checkpoint's optimizer state in the full layout.
        var wholeOptimizerState: [String: [Float]] = [:]
        if rank == 0 && options.savesCheckpoints, let loaded = try findCheckpoint() {
            let state = loaded.state
            state.parameters.layout.copy(state.parameters.values, laidOutAs: state.parameters.layout,
                                        into: parameters.values.buffer)
            restoreBuffers(state.buffers)
            for name in optimizer.stateNames {
                guard let values = state.optimizer.buffers[name] else { continue }
                var whole = [Float](repeating: 0, count: parameters.count)
                whole.withUnsafeMutableBufferPointer {
                    state.parameters.layout.copy(values, laidOutAs: state.parameters.layout, into: $0)
                }
                wholeOptimizerState[name] = whole
            }
            found = true
            restored = RunState(checkpoint: state)
            rng = state.rngState
            progress.log("resuming from \(loaded.path): epoch \(state.epoch + 1), step \(state.iteration) of the epoch, "
                         + "global step \(state.globalStep) (saved at world size \(state.worldSize), now \(worldSize))")
            warnAboutBits(of: loaded, microBatches: restored.microBatches)
        }
        if let communicator, worldSize > 1 {
            found = try communicator.broadcast([found ? 1 : 0] as [Int64], root: 0)[0] == 1
            if found {
                let text = String(decoding: try JSONEncoder().encode(restored), as: UTF8.self)
                restored = try JSONDecoder().decode(RunState.self, from: Data(try communicator.broadcast(text, root: 0).utf8))
                try communicator.broadcast(parameters.values.buffer, root: 0)
                rng = try communicator.broadcast(rng, root: 0)
                try Self.broadcastBuffers(of: model, communicator: communicator)
            }
        }
        if found {
            try adopt(restored.sampleOrder)  // rank 0 adopted it before checking the checkpoint
            try distribute(wholeOptimizerState)
        }
        plan = try microBatchPlan(checkpointMicroBatches: found ? restored.microBatches : nil)
        restored.microBatches = plan?.microBatches
        runState = restored
        guard found else { return }
        // recordProblems checked that the optimizer's step count is the global step.
        optimizer.stepCount = restored.globalStep
        generatorState = rng
    }

    /// The deterministic mode's micro-batches: `--micro-batches`, else the
    /// checkpoint's, else the world size. Every rank decides alike.
    private func microBatchPlan(checkpointMicroBatches: Int?) throws -> MicroBatchPlan? {
        let c = options
        guard c.deterministic else { return nil }
        if let asked = c.microBatches, let saved = checkpointMicroBatches, asked != saved {
            throw TrainingError.invalidOption(.microBatches, "the checkpoint was trained with \(saved) micro-batches per global "
                                              + "batch, this run asks for \(asked); leave --micro-batches out to continue the same "
                                              + "arithmetic, or use --resume never to start afresh")
        }
        // --accumulate K: K micro-batches per rank at the starting world size.
        let m = c.microBatches ?? checkpointMicroBatches ?? worldSize * c.accumulate
        if let saved = checkpointMicroBatches, c.microBatches == nil, c.accumulate > 1, saved != worldSize * c.accumulate, rank == 0 {
            progress.log("note: --accumulate \(c.accumulate) is not applied: under --deterministic the checkpoint's \(saved) "
                         + "micro-batches per global batch decide (\(saved / worldSize) per rank at this world size)")
        }
        do {
            return try MicroBatchPlan(batchSize: c.batchSize, microBatches: m, rank: rank, worldSize: worldSize)
        } catch TrainingError.invalidOption(_, let reason) where c.microBatches == nil && checkpointMicroBatches != nil {
            throw TrainingError.invalidOption(.deterministic, "resuming a checkpoint trained with \(m) micro-batches per global "
                                              + "batch: \(reason)")
        }
    }

    /// Rank 0: says when the resumed run cannot continue the checkpoint's
    /// bits exactly (another mode, BLAS kernel, CPU or executable).
    private func warnAboutBits(of loaded: LoadedCheckpoint, microBatches: Int?) {
        let wasDeterministic = loaded.state.extra["deterministic"] == "true"
        if wasDeterministic != options.deterministic {
            progress.log("note: \(loaded.path) was trained \(wasDeterministic ? "with" : "without") --deterministic and this run "
                         + "is \(options.deterministic ? "" : "not ")deterministic: it continues, but not bit for bit as the "
                         + "uninterrupted run would have")
        }
        guard let saved = Provenance(extras: loaded.state.extra) else { return }
        var differences = Provenance.current.differences(from: saved)
        if let threads = loaded.state.extra["bits_blas_threads"], threads != String(options.threads) {
            differences.append("\(threads) BLAS thread(s) per rank then, \(options.threads) now")
        }
        if !differences.isEmpty {
            progress.log("warning: \(loaded.path) was written on another machine or build (\(differences.joined(separator: "; "))); "
                         + "training continues, but its bits can differ from an uninterrupted run's")
        }
    }
}
