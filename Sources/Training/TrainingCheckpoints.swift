import Checkpoint
import Collective
import Foundation
import NN
import Optim
import TensorCore

/// Converting between a running trainer and a `TrainingState`, and choosing
/// the checkpoint a run resumes from.
///
/// Rank 0 alone reads and validates a checkpoint; it then broadcasts the
/// position, the parameters and the optimizer state, so every rank resumes
/// identical whatever the world size was when it was saved.
extension Trainer {
    /// Where the next step starts, as a checkpoint records it.
    struct Position {
        /// 0-based epoch of the next step.
        var epoch = 0
        /// Steps already done in that epoch.
        var iteration = 0
        /// This epoch's summed training loss and sample count so far (all ranks).
        var epochLossSum = 0.0
        var epochSamples = 0.0
    }

    /// The layout of the parameters, as the checkpoint stores it.
    var tensorLayout: TensorLayout {
        TensorLayout(names: parameters.names, shapes: parameters.tensors.map(\.shape))
    }

    /// The model's configuration as the checkpoint's `model_config` JSON.
    var modelConfigJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(modelSpec)) ?? Data(), as: UTF8.self)
    }

    /// A copy of everything exact resumption needs, taken between steps.
    func snapshot(position: Position) -> TrainingState {
        let layout = tensorLayout
        var buffers: [String: [Float]] = [:]
        for name in optimizer.stateNames {
            if let buffer = optimizer.stateBuffer(name) { buffers[name] = Array(buffer.buffer) }
        }
        return TrainingState(
            parameters: FlatTensors(layout: layout, copying: UnsafeBufferPointer(parameters.values.buffer)),
            optimizer: OptimizerState(type: optimizer.typeName, hyperParameters: optimizer.hyperParameters,
                                      step: optimizer.stepCount, buffers: buffers),
            epoch: position.epoch, iteration: position.iteration, globalStep: globalStep,
            samplesSeen: globalStep * configuration.batchSize, seed: configuration.seed, worldSize: worldSize,
            batchSize: configuration.batchSize, model: modelSpec.name, modelConfig: modelConfigJSON,
            dataset: configuration.dataset, rngState: generatorState,
            extra: ["epoch_loss_sum": String(position.epochLossSum), "epoch_samples": String(position.epochSamples),
                    "optimizer_lr": String(configuration.learningRate)])
    }

    /// Rank 0: the checkpoint `--resume` asks for, validated against this
    /// run, or nil to start afresh. Nothing on disk is changed.
    func findCheckpoint() throws -> LoadedCheckpoint? {
        let c = configuration
        let directory = c.resolvedCheckpointDirectory
        let loaded: LoadedCheckpoint
        switch c.resume {
        case "never":
            return nil
        case "auto":
            guard FileManager.default.fileExists(atPath: directory) else { return nil }
            let search = try CheckpointDirectory.latestValid(in: directory)
            for temporary in search.temporaryFiles {
                progress.log("note: ignoring \(temporary), left by a save that never finished (the run was stopped "
                             + "mid-write); the complete checkpoints are untouched and the next save deletes it")
            }
            for skipped in search.skipped { progress.log("warning: skipping checkpoint \(skipped.path): \(skipped.reason)") }
            guard let found = search.checkpoint else {
                if search.skipped.isEmpty { return nil }
                throw TrainingError.checkpoint("no valid checkpoint in \(directory) (all \(search.skipped.count) are damaged, see above); "
                                               + "use --resume never or another --checkpoint-dir to start afresh")
            }
            loaded = found
        default:
            do {
                loaded = LoadedCheckpoint(path: c.resume, state: try CheckpointFile.read(c.resume))
            } catch {
                throw TrainingError.checkpoint("--resume \(c.resume): \(error)")
            }
        }
        let expectation = CheckpointExpectation(model: modelSpec.name, modelConfig: modelConfigJSON, parameters: tensorLayout,
                                                optimizerType: optimizer.typeName, optimizerStateNames: optimizer.stateNames)
        var differences = expectation.differences(from: loaded.state)
        let state = loaded.state
        if state.batchSize != c.batchSize {
            differences.append("--batch-size: the checkpoint was trained with global batch \(state.batchSize), this run asks for \(c.batchSize)")
        }
        if state.seed != c.seed {
            differences.append("--seed: the checkpoint's data order comes from seed \(state.seed), this run asks for \(c.seed)")
        }
        if state.dataset != c.dataset {
            differences.append("--dataset: the checkpoint was trained on \(state.dataset), this run asks for \(c.dataset)")
        }
        if state.iteration > stepsPerEpoch || state.epoch < 0 {
            differences.append("position: epoch \(state.epoch) step \(state.iteration) does not fit \(stepsPerEpoch) steps per epoch")
        }
        guard differences.isEmpty else {
            throw TrainingError.checkpoint("checkpoint \(loaded.path) does not match this run: " + differences.joined(separator: "; ")
                                           + ". Nothing was changed; use --resume never or another --checkpoint-dir to start afresh")
        }
        return loaded
    }

    /// Loads `--resume`'s checkpoint on rank 0 and gives it to every rank.
    /// Returns the position to start from.
    func restore() throws -> Position {
        // Header: found, epoch, iteration, global step, optimizer step, then the loss sum's bits and samples.
        var header = [Int64](repeating: 0, count: 7)
        var rng = generatorState
        if rank == 0, let loaded = try findCheckpoint() {
            let state = loaded.state
            state.parameters.layout.copy(state.parameters.values, laidOutAs: state.parameters.layout,
                                        into: parameters.values.buffer)
            for name in optimizer.stateNames {
                guard let values = state.optimizer.buffers[name], let buffer = optimizer.stateBuffer(name) else { continue }
                state.parameters.layout.copy(values, laidOutAs: state.parameters.layout, into: buffer.buffer)
            }
            let lossSum = Double(state.extra["epoch_loss_sum"] ?? "") ?? 0
            let samples = Double(state.extra["epoch_samples"] ?? "") ?? 0
            header = [1, Int64(state.epoch), Int64(state.iteration), Int64(state.globalStep), Int64(state.optimizer.step),
                      Int64(bitPattern: lossSum.bitPattern), Int64(samples)]
            rng = state.rngState
            progress.log("resuming from \(loaded.path): epoch \(state.epoch + 1), step \(state.iteration) of the epoch, "
                         + "global step \(state.globalStep) (saved at world size \(state.worldSize), now \(worldSize))")
        }
        if let communicator, worldSize > 1 {
            header = try communicator.broadcast(header, root: 0)
            if header[0] == 1 {
                try communicator.broadcast(parameters.values.buffer, root: 0)
                for name in optimizer.stateNames {
                    if let buffer = optimizer.stateBuffer(name) { try communicator.broadcast(buffer.buffer, root: 0) }
                }
                rng = try communicator.broadcast(rng, root: 0)
            }
        }
        guard header[0] == 1 else { return Position() }
        globalStep = Int(header[3])
        optimizer.stepCount = Int(header[4])
        generatorState = rng
        return Position(epoch: Int(header[1]), iteration: Int(header[2]),
                        epochLossSum: Double(bitPattern: UInt64(bitPattern: header[5])), epochSamples: Double(header[6]))
    }
}
