import Checkpoint
import Collective
import DataLoading
import DataParallel
import Foundation
import NN
import Optim
import RunLog
import SafeFiles
import TensorCore

/// The figures of one finished epoch (one `"event":"epoch"` metrics line),
/// reduced over all ranks.
public struct EpochRecord: Sendable {
    public var epoch: Int
    /// Optimizer steps taken so far in the run.
    public var step: Int
    public var trainLoss: Double
    public var test: EvaluationResult
    /// The first `trainEvaluationSamples` training samples, evaluated after the epoch (nil when 0).
    public var train: EvaluationResult?
    /// The held-out part of the training set (`validationFraction`), nil without one.
    public var validation: EvaluationResult?
    /// The learning rate of the epoch's last step.
    public var learningRate: Double = 0
    /// The mean 2-norm of the averaged gradient over the epoch's steps
    /// (before clipping), when `clipGradientNorm` is set.
    public var gradientNorm: Double?
    /// Global samples (all ranks) per second.
    public var samplesPerSecond: Double
    public var seconds: Double
}

/// How a run ended.
///
/// Running a finished run's program again is common (a job script run
/// twice, a restart after the last save): the outcome tells the code after
/// `fit()` whether anything was trained, which empty `records` cannot.
public enum TrainingOutcome: Sendable, Equatable {
    /// Trained from the start to the end (every epoch, `maxSteps`, or early
    /// stopping): `steps` optimizer steps.
    case trained(steps: Int)
    /// Continued a checkpoint's run from global step `fromStep` to the end:
    /// `steps` more optimizer steps.
    case resumed(fromStep: Int, steps: Int)
    /// The checkpoint's run had already reached its end (or stopped early):
    /// nothing was trained; `reason` says why, as the log does.
    case nothingToDo(reason: String)
    /// SIGTERM or SIGINT: the current step finished and a checkpoint was written.
    case stopped(signal: Int32, checkpoint: String?)
}

/// A model as its checkpoints name it: `model` and `model_config`. Resuming
/// compares both, so a checkpoint is never loaded into another model.
public struct ModelIdentity: Sendable, Equatable {
    /// e.g. "highway".
    public var name: String
    /// The model's options as JSON (sorted keys), "{}" when it has none.
    public var configJSON: String

    public init(name: String, configJSON: String = "{}") {
        self.name = name
        self.configJSON = configJSON
    }

    /// What a model is called when its program gives no identity: its type's
    /// name, lower-cased (`Sequential` gives "sequential"), and as its config
    /// the type of every module in its tree by path (`{"modules": {"0":
    /// "Flatten", "1": "Linear", "2": "ReLU", ...}}`). Two programs whose
    /// models differ only in modules without parameters (ReLU for Tanh), which
    /// the parameter names and shapes cannot tell apart, so do not resume
    /// each other's checkpoints in the shared default directory.
    public init(of model: any Module) {
        let typeName = String(describing: type(of: model)).lowercased()
        let modules = model.namedModules().dropFirst().map { ($0.name, String(describing: type(of: $0.module))) }
        self.init(name: String(typeName.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }),
                  config: ["modules": Dictionary(modules, uniquingKeysWith: { first, _ in first })])
    }

    /// `config` encoded as the checkpoint's `model_config`.
    public init<Config: Encodable>(name: String, config: Config) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.init(name: name, configJSON: String(decoding: (try? encoder.encode(config)) ?? Data("{}".utf8), as: UTF8.self))
    }
}

/// Which processes train together.
public enum World {
    /// Every rank mpirun started when run under mpirun, else this process alone.
    case automatic
    /// This process alone, even under mpirun.
    case alone
    /// The ranks of this communicator.
    case communicator(Communicator)

    /// The communicator, nil when alone (MPI is then never initialised).
    func resolve() throws -> Communicator? {
        switch self {
        case .automatic: Communicator.isUnderMPIRun ? try Communicator.world() : nil
        case .alone: nil
        case .communicator(let communicator): communicator
        }
    }
}

/// Trains any model on any data set, alone or as one rank of a data-parallel
/// job, in the spirit of Lightning's `Trainer.fit`: each rank takes its slice
/// of every global batch, gradients are averaged across ranks, and every rank
/// applies the same update, so all hold the same model. Rank 0 alone prints,
/// writes metrics and writes checkpoints; a run resumes from them at any
/// world size; SIGTERM or SIGINT stops it with a checkpoint; a step that
/// hangs aborts the job (`stepTimeout`); a NaN stops it before the update.
///
///     let trainer = try Trainer(model: net, identity: ModelIdentity(name: "highway", config: config),
///                               train: trainSet, evaluation: testSet,
///                               loss: .crossEntropy, metrics: [.accuracy], options: options)
///     try trainer.fit()
///
/// `trainer train` is a client like any other: ModelZoo's
/// `Trainer(configuration:)` builds a zoo model and a catalog data set and
/// calls the same initialiser.
public final class Trainer {
    public let options: TrainingOptions
    public let identity: ModelIdentity
    public let model: any Module
    public let parameters: ParameterSet
    /// This rank's optimizer: over `shards.runs[rank]` when sharded.
    public let optimizer: any Optimizer
    /// The optimizer's learning rate as made: what schedules scale and
    /// checkpoints record (`optimizer_lr`), whoever made the optimizer.
    let baseLearningRate: Float
    /// How the sharded optimizer splits the parameters (nil: not sharded,
    /// every rank updates all of them).
    public let shards: OptimizerShards?
    /// What the model trains on: the training set, less `validationSet`.
    public internal(set) var trainSet: any Dataset
    public let evaluationSet: any Dataset
    /// The held-out part of the training set (`validationFraction` > 0).
    public internal(set) var validationSet: (any Dataset)?
    /// The training set as given, before the validation split.
    let givenTrainSet: any Dataset
    /// The learning-rate schedule (`options.schedule`), nil for a constant rate.
    let schedule: LearningRateSchedule?
    /// Which way `--keep-best`'s metric improves (its `Metric.better`; a loss: lower).
    private var keepBestBetter = Metric.Better.lower
    /// Rank 0's TensorBoard event files (`tensorboardDirectory`).
    private var tensorboard: TensorBoardWriter?
    /// The data set's name in checkpoints (a catalog name, or the user's).
    public let datasetName: String
    /// Rank 0: the checksums of every value of the training set (before any
    /// validation split) and of the test set, which checkpoints record and
    /// resuming compares (`DataContent`); nil on other ranks.
    let dataChecksums: (train: String, test: String)?
    let objective: Objective
    public let progress: ProgressReporter
    /// The job's communicator; nil when running alone without mpirun.
    public let communicator: Communicator?
    public let rank: Int
    public let worldSize: Int
    private let metrics: MetricsLog?
    var sampler: DistributedBatchSampler
    /// Made by `restore()`, once the micro-batches are known (a resumed
    /// deterministic run keeps its checkpoint's).
    private var step: TrainingStep?
    /// The micro-batches of `--deterministic` (set when `run()` starts); nil in the default mode.
    public internal(set) var plan: MicroBatchPlan?
    /// Rank 0's background checkpoint writer (nil on other ranks).
    private let writer: CheckpointWriter?
    /// Rank 0's hold on the checkpoint directory for the trainer's life.
    private let lock: DirectoryLock?
    /// The directories this trainer created for its checkpoints (innermost
    /// first): removed again, if still empty, when the run is refused.
    private var createdDirectories: [String] = []
    /// The checkpoint format's `rng_state`: the seed's generator state, or
    /// the resumed checkpoint's. Nothing is computed from it (issue 20: a
    /// user is no longer asked for it); it is kept so that files stay in
    /// the format older builds read.
    var generatorState: [UInt64]
    /// Where the run stands: advanced by every step, saved by every
    /// checkpoint, restored and broadcast on resume.
    var runState = RunState()
    /// Optimizer steps taken so far (restored on resume).
    public var globalStep: Int { runState.globalStep }
    /// The run every checkpoint of this job belongs to (`/extra@run_id`):
    /// the resumed checkpoint's, or a new random id. Rank 0 only.
    var runID = Trainer.newRunID()
    /// Whether the resumed checkpoint was written before runs had ids: its
    /// metrics lines and TensorBoard files carry none either, and they are
    /// this run's own to trim on resume. Rank 0 only.
    var resumesUnmarkedRun = false
    /// Seconds the training thread spent in checkpoint saves (snapshot and hand-off).
    public private(set) var checkpointStallSeconds = 0.0
    /// Checkpoints written by this run.
    public private(set) var checkpointsSaved = 0
    private var lastSavedStep = -1

    /// Trains `model` on `train`, evaluating on `evaluation` after every epoch.
    ///
    /// - Parameters:
    ///   - identity: what checkpoints call the model, with its options;
    ///     resuming checks it (default: the model's type name, `ModelIdentity(of:)`).
    ///   - loss: the training loss, a mean over the batch.
    ///   - evaluationLoss: the loss reported on `evaluation` (default `loss`).
    ///   - metrics: reported beside the loss, as `test_<name>`.
    ///   - datasetName: the data set's name in checkpoints; resuming checks it
    ///     and a fingerprint of `train` (count, shapes, a checksum of samples).
    ///   - world: `.automatic` joins the ranks mpirun started, if any.
    ///   - optimizer: makes the optimizer, of your own if you like (any
    ///     `Optimizer`), over the parameters and the shard the trainer gives
    ///     it (nil: all of them; a range: this rank's part under the sharded
    ///     optimizer, the only elements it may update and keep state for).
    ///     Default: `options.optimizer` with `options`' hyper-parameters.
    /// Every rank starts from rank 0's parameters. On a multi-rank job an
    /// error on one rank prints it with the rank and ends every rank.
    public init(model: any Module, identity: ModelIdentity? = nil, train: any Dataset, evaluation: any Dataset,
                loss: Loss, evaluationLoss: Loss? = nil, metrics: [Metric] = [],
                options: TrainingOptions = TrainingOptions(), datasetName: String = "custom",
                world: World = .automatic,
                optimizer makeOptimizer: ((ParameterSet, _ shard: Range<Int>?) -> any Optimizer)? = nil,
                showProgress: Bool = true) throws {
        let communicator = try world.resolve()
        let identity = identity ?? ModelIdentity(of: model)
        do {
            try options.validate()  // before anything is built from the numbers
            // Found now, not when the file is written after the whole run.
            try OutputPaths.check(options, rank: communicator?.rank ?? 0)
            // Found now, not as a trap at the first evaluation after an epoch of training.
            guard evaluation.sampleShape == train.sampleShape && evaluation.targetShape == train.targetShape else {
                func shape(_ d: any Dataset) -> String {
                    d.sampleShape.map(String.init).joined(separator: "x")
                        + (d.targetShape.isEmpty ? "" : " with targets of \(d.targetShape.map(String.init).joined(separator: "x"))")
                }
                throw TrainingError.invalidOption(.dataset, "\(datasetName): the test samples are \(shape(evaluation)) but the "
                                                  + "training samples \(shape(train)); both sets must have the same shapes")
            }
            // Every rank holds the same data: rank 0 reads it all once, and its error ends the job.
            dataChecksums = communicator.map { $0.rank == 0 } ?? true
                ? (try DataContent(train, role: "training set", name: datasetName).checksum,
                   try DataContent(evaluation, role: "test set", name: datasetName).checksum)
                : nil
        } catch {
            Trainer.endJob(communicator, error)
            throw error
        }
        self.communicator = communicator
        rank = communicator?.rank ?? 0
        worldSize = communicator?.size ?? 1
        self.options = options
        self.identity = identity
        self.model = model
        givenTrainSet = train
        (trainSet, validationSet) = try Self.split(train, options, scheme: .keyedBijection)
        evaluationSet = evaluation
        schedule = try options.schedule.schedule()
        self.datasetName = datasetName
        objective = Objective(loss: loss, evaluationLoss: evaluationLoss ?? loss, metrics: metrics)
        generatorState = RandomGenerator(seed: options.seed).state
        progress = ProgressReporter(enabled: showProgress && rank == 0)
        parameters = ParameterSet(model)
        shards = options.shardOptimizer && worldSize > 1 ? OptimizerShards(count: parameters.count, worldSize: worldSize) : nil
        let shard = shards?.runs[rank]
        optimizer = (makeOptimizer ?? { Self.builtInOptimizer(options, $0, shard: $1) })(parameters, shard)
        baseLearningRate = optimizer.learningRate
        do {
            guard optimizer.parameters === parameters, optimizer.shard == shard ?? 0..<parameters.count else {
                throw TrainingError.invalidOption(.optimizerFactory, "the optimizer made covers elements \(optimizer.shard) of "
                                                  + (optimizer.parameters === parameters ? "" : "another parameter set, ")
                                                  + "not the \(shard ?? 0..<parameters.count) it was given; pass the "
                                                  + "parameters and the shard on to it")
            }
            BLAS.setThreads(options.threads)
            sampler = try Self.sampler(trainSet.count, options, rank: rank, worldSize: worldSize, scheme: .keyedBijection)
            guard sampler.stepsPerEpoch > 0 else {
                throw TrainingError.invalidOption(.batchSize, "\(options.batchSize) is larger than the \(trainSet.count) training samples")
            }
            if !options.deterministic && options.accumulate > options.batchSize / worldSize {
                throw TrainingError.invalidOption(.accumulate, "\(options.accumulate) micro-batches per step cannot split the "
                                                  + "\(options.batchSize / worldSize) samples each of \(worldSize) rank(s) gets of --batch-size \(options.batchSize)")
            }
            try Trainer.checkActivationMemory(model, sampleShape: trainSet.sampleShape, options: options, worldSize: worldSize)
            keepBestBetter = try options.keepBest?.direction(among: metrics, validation: options.validationFraction > 0) ?? .lower
            if options.deterministic && !model.namedBuffers().isEmpty {
                throw TrainingError.invalidOption(.deterministic, "the model has buffers (BatchNorm's running statistics), which "
                                                  + "would depend on how the micro-batches are spread over the ranks; train it without "
                                                  + "--deterministic (BatchNorm is then synchronised across ranks, as SyncBatchNorm)")
            }
            if options.deterministic {
                // Refused now rather than when run() resumes: a world size or a
                // --micro-batches that cannot work (a checkpoint's own count is
                // checked on resume).
                let (rank, worldSize) = (rank, worldSize)
                try TrainingOptions.accumulating(options.accumulate, options.microBatches) {
                    _ = try MicroBatchPlan(batchSize: options.batchSize,
                                           microBatches: options.microBatches ?? worldSize * options.accumulate, rank: rank,
                                           worldSize: worldSize)
                }
            }
            // Same seed, same initialisation on every rank; the broadcast makes
            // that a guarantee rather than an assumption.
            try communicator?.broadcast(parameters.values.buffer, root: 0)
            try Trainer.broadcastBuffers(of: model, communicator: communicator)
            self.metrics = rank == 0 ? try options.metricsPath.map { try MetricsLog(path: $0) } : nil
            if rank == 0 && options.savesCheckpoints {
                let directory = CheckpointDirectory(options.checkpointDirectory ?? "runs/\(identity.name)", keep: options.keep)
                let created: [String]
                do {
                    created = try directory.create()
                } catch CheckpointError.directory(let path, let reason) {
                    throw TrainingError.invalidOption(.checkpointDirectory, "\(path) \(reason); give a directory (it is created "
                                                      + "if missing) or a path where one can be created")
                }
                createdDirectories = created
                do {
                    // Found now, not at the first save minutes later; and one writer per directory.
                    try directory.probeWritable()
                    lock = try DirectoryLock(directory: directory.path)
                } catch {
                    CheckpointDirectory.removeIfEmpty(created)
                    throw TrainingError.invalidOption(.checkpointDirectory, "\(error)")
                }
                writer = CheckpointWriter(directory: directory)
            } else {
                writer = nil
                lock = nil
            }
        } catch {
            Trainer.endJob(communicator, error)
            throw error
        }
    }

    /// Prints `error` with this rank and ends every rank of a multi-rank job
    /// (the others would wait forever in their next collective) with its exit
    /// status (`TrainingError.exitStatus(for:)`, which mpirun passes on); alone
    /// it returns, and the caller throws as usual.
    public static func endJob(_ communicator: Communicator?, _ error: any Error) {
        guard let communicator, communicator.size > 1 else { return }
        FileHandle.standardError.write(Data("trainer: rank \(communicator.rank) of \(communicator.size): \(error)\n".utf8))
        communicator.abort(errorCode: TrainingError.exitStatus(for: error))
    }

    /// Runs the whole training: Lightning's and Keras's name for `run()`.
    @discardableResult
    public func fit() throws -> TrainingOutcome { try run() }

    /// Optimizer steps per epoch (the same on every rank).
    public var stepsPerEpoch: Int { sampler.stepsPerEpoch }

    /// Seconds this rank spent waiting for gradient allreduces.
    public var allreduceWaitSeconds: Double { step?.allreduceWaitSeconds ?? 0 }

    /// The epochs finished by the last `run()`.
    public private(set) var records: [EpochRecord] = []

    /// Resumes if asked, then runs every epoch (or until `maxSteps`), saving
    /// checkpoints as configured. On an error, rank 0 first lets a checkpoint
    /// being written finish, so the last good one is complete; on a
    /// multi-rank job the error then ends every rank with this rank's
    /// message (the others would wait forever in their next collective).
    @discardableResult
    public func run() throws -> TrainingOutcome {
        let stop = StopRequest()
        var watchdog: Watchdog?
        if options.stepTimeout > 0 {
            let (communicator, rank, worldSize) = (self.communicator, self.rank, self.worldSize)
            watchdog = Watchdog(timeout: options.stepTimeout) { step, seconds in
                let message = "trainer: rank \(rank) of \(worldSize): \(TrainingError.stalled(step: step, seconds: seconds))\n"
                FileHandle.standardError.write(Data(message.utf8))
                if let communicator, worldSize > 1 { communicator.abort(errorCode: 3) }
                exit(3)
            }
        }
        defer { watchdog?.stop() }
        do {
            let outcome = try train(stop: stop, watchdog: watchdog)
            _ = try checkingSave { try writer?.waitUntilIdle() }  // the last checkpoint is on disk when run() returns
            return outcome
        } catch {
            _ = try? writer?.waitUntilIdle()
            // A run refused before it saved anything leaves no new directory behind.
            CheckpointDirectory.removeIfEmpty(createdDirectories)
            Trainer.endJob(communicator, error)
            throw error
        }
    }

    private func train(stop: StopRequest, watchdog: Watchdog?) throws -> TrainingOutcome {
        let c = options
        records = []
        try restore()
        let step = try makeStep()
        progress.log("training \(identity.name) on \(datasetName) (\(trainSet.count) train / \(evaluationSet.count) test), "
                     + "\(parameters.count) parameters, \(optimizer.typeName) lr \(optimizer.learningRate), "
                     + "global batch \(c.batchSize) over \(worldSize) rank\(worldSize == 1 ? "" : "s"), seed \(c.seed)"
                     + (plan.map { ", deterministic (\($0.microBatches) micro-batches of \($0.microBatchSize))" } ?? "")
                     + (worldSize > 1 ? step.reductionSummary.map { "; gradients: \($0)" } ?? "" : ""))
        if plan != nil && c.threads > 1 {
            progress.log("note: --threads \(c.threads) with --deterministic: OpenBLAS splits a product across threads in "
                         + "its own way, so the bits match only runs with the same --threads per rank (the default is 1)")
        }
        let startStep = globalStep
        if let stopped = earlyStopMessage() {
            let reason = stopped + "; raise --early-stop to continue it, or start a new run with "
                + "--resume never --overwrite or another --checkpoint-dir"
            progress.log("nothing to do: " + reason)
            return .nothingToDo(reason: reason)
        }
        var finishedBefore: String?
        if runState.epoch >= c.epochs || c.maxSteps.map({ globalStep >= $0 }) == true {
            finishedBefore = "this run already reached its end at step \(globalStep) (--epochs \(c.epochs)"
                + (c.maxSteps.map { ", --max-steps \($0)" } ?? "") + "); raise --epochs or --max-steps to continue "
                + "it, or start a new run with --resume never --overwrite or another --checkpoint-dir"
            progress.log("nothing to do: " + finishedBefore!)
        }
        if rank == 0, let directory = c.tensorboardDirectory {
            do {
                tensorboard = try TensorBoardWriter(directory: directory, run: runID,
                                                    resumingAfterStep: globalStep > 0 ? globalStep : nil,
                                                    ownsUnmarkedFiles: resumesUnmarkedRun)
            } catch {
                throw TrainingError.checkpoint("\(error)")  // names --tensorboard and the path
            }
            for repair in tensorboard?.resumeRepairs ?? [] { progress.log("tensorboard: \(repair)") }
        }
        if globalStep > 0, let metrics {
            // What this run wrote after its checkpoint, it writes again: the
            // lines of later steps, and of the epoch it resumes inside (a line
            // for part of it, written when --max-steps ended the run there).
            let resumedEpoch = runState.epoch + 1, step = globalStep
            let dropped = try metrics.dropRecords(ofRun: runID, includingUnmarked: resumesUnmarkedRun) { fields in
                (fields["step"] as? Int).map { $0 > step } == true || (fields["epoch"] as? Int).map { $0 >= resumedEpoch } == true
            }
            if dropped > 0 {
                progress.log("metrics: dropped \(dropped) line(s) of this run written after its checkpoint (step \(step)) from \(metrics.path)")
            }
        }
        defer { try? tensorboard?.close() }
        let loader = DataLoader(dataset: trainSet, sampler: sampler, prefetch: c.prefetch)
        let sampleLog = try c.sampleLogPath.map { try SampleLog(path: "\($0).rank\(rank)") }
        while runState.epoch < c.epochs {
            if let maxSteps = c.maxSteps, globalStep >= maxSteps { break }
            let epoch = runState.epoch, first = runState.iteration
            // globalStep < maxSteps here, so the subtraction cannot overflow (--max-steps may be near Int.max).
            let stepsThisEpoch = c.maxSteps.map { min(sampler.stepsPerEpoch, first + min($0 - globalStep, sampler.stepsPerEpoch)) }
                ?? sampler.stepsPerEpoch
            let start = Date()
            watchdog?.progress(step: globalStep)
            for batch in loader.batches(epoch: epoch, startingAt: first) {
                if runState.iteration >= stepsThisEpoch { break }
                if let failure = trainSet.readFailure { throw failure }  // a sample read from a file failed: it holds NaN
                applySchedule(epoch: epoch)
                // The step's one small collective rides along with it: the
                // loss of the whole global batch, and whether any rank was asked to stop.
                let agreed = try step(batch, position: (epoch + 1, globalStep + 1)) { stop.received }
                runState.finishStep(lossSum: agreed.lossSum, samples: agreed.samples, gradientNorm: step.lastGradientNorm)
                try sampleLog?.append(batch.indices)
                watchdog?.progress(step: globalStep)
                try tensorboard?.addScalars([("train/loss", agreed.lossSum / Double(max(agreed.samples, 1))),
                                             ("train/lr", Double(optimizer.learningRate))], step: globalStep)
                if c.checkReplicas { try checkReplicas() }
                let elapsed = Date().timeIntervalSince(start)
                progress.update(epoch: epoch + 1, epochs: c.epochs, step: runState.iteration, total: sampler.stepsPerEpoch,
                                loss: Float(runState.epochLossSum / max(runState.epochSamples, 1)),
                                samplesPerSecond: Double((runState.iteration - first) * c.batchSize) / elapsed, elapsed: elapsed)
                let signal = agreed.stopSignal
                // On the epoch's last step the periodic checkpoint is left to the
                // end-of-epoch save, which follows the epoch's evaluation and report
                // and records the next epoch's start: resuming from it must not
                // evaluate and report the epoch again. Without epoch-end saves
                // it is taken there too (a resume then evaluates the epoch, and
                // drops the lines it wrote for it before).
                let periodic = c.checkpointEvery > 0 && globalStep % c.checkpointEvery == 0
                    && (runState.iteration < sampler.stepsPerEpoch || !c.checkpointAtEpochEnd)
                if signal != nil || periodic { try save() }
                if let signal {
                    let saved = try checkingSave { try writer?.waitUntilIdle() }
                    progress.log("stopped by \(StopRequest.name(of: signal)) after step \(globalStep); "
                                 + (c.savesCheckpoints ? "checkpoint \(saved?.path ?? "written by rank 0"); run the same command "
                                    + "again to resume" : "no checkpoint (checkpoints are off)"))
                    return .stopped(signal: signal, checkpoint: saved?.path)
                }
            }
            let seconds = Date().timeIntervalSince(start)
            let test = try evaluateTestSet()
            let trainEvaluation = c.trainEvaluationSamples > 0
                ? try evaluateShards(of: Subset(trainSet, 0..<min(c.trainEvaluationSamples, trainSet.count))) : nil
            let validation = try validationSet.map { try evaluateShards(of: $0) }
            watchdog?.progress(step: globalStep)
            var record = EpochRecord(epoch: epoch + 1, step: globalStep,
                                     trainLoss: runState.epochLossSum / max(runState.epochSamples, 1), test: test,
                                     train: trainEvaluation, validation: validation,
                                     samplesPerSecond: Double((runState.iteration - first) * c.batchSize) / seconds, seconds: seconds)
            record.learningRate = Double(optimizer.learningRate)
            if runState.gradientNormSteps > 0 {
                record.gradientNorm = runState.gradientNormSum / Double(runState.gradientNormSteps)
            }
            records.append(record)
            try report(record)
            try tensorboard?.addScalars(tensorboardScalars(record), step: globalStep)
            try tensorboard?.flush()
            if runState.iteration < sampler.stepsPerEpoch {
                // --max-steps ended the run inside this epoch: the checkpoint keeps that position.
                try save()
                break
            }
            runState.finishEpoch()
            let improved = runState.best.update(with: record, metric: c.keepBest, better: keepBestBetter)
            try save(rolling: c.checkpointAtEpochEnd, best: improved)
            if let stopped = earlyStopMessage() {
                progress.log("early stop: " + stopped)
                break
            }
        }
        // Without epoch-end saves, the run's last state is still saved once,
        // so that running the program again has nothing left to do.
        if !c.checkpointAtEpochEnd { try save() }
        if let path = c.saveParametersPath, rank == 0 {
            // Written, so that a path naming one (best.h5) is seen for the HDF5 file it is.
            _ = try checkingSave { try writer?.waitUntilIdle() }
            try saveParameters(to: path)
        }
        if let finishedBefore { return .nothingToDo(reason: finishedBefore) }
        return startStep > 0 ? .resumed(fromStep: startStep, steps: globalStep - startStep) : .trained(steps: globalStep)
    }

    /// The training step for `plan` (set by `restore()`).
    private func makeStep() throws -> TrainingStep {
        let step = try TrainingStep(model: model, parameters: parameters, optimizer: optimizer, loss: objective.loss,
                                    communicator: communicator, bucketBytes: Int(options.bucketMegabytes * 1_048_576), plan: plan,
                                    accumulate: options.accumulate, clipGradientNorm: options.clipGradientNorm, seed: options.seed,
                                    shards: shards, sharedMemory: options.sharedMemory)
        self.step = step
        return step
    }

    /// The one way a checkpoint is written: rank 0 snapshots the run once
    /// and hands it to the background writer, as `best.h5` when `best` (a
    /// new best at an epoch's end) and then as the next rolling checkpoint
    /// when `rolling` (once per step). Collective: every rank calls it alike.
    private func save(rolling: Bool = true, best: Bool = false) throws {
        let rolling = rolling && globalStep != lastSavedStep
        guard options.savesCheckpoints, rolling || best else { return }  // the same on every rank: no collective skipped on one
        if rolling { lastSavedStep = globalStep }
        let start = DispatchTime.now().uptimeNanoseconds
        let optimizerBuffers = try gatheredOptimizerState()  // collective: every rank takes part
        guard let writer else { return }
        // Events up to this step reach the disk before the checkpoint exists, so
        // a resume from it never lacks any (it trims only later ones).
        do { try tensorboard?.flush() } catch { throw TrainingError.checkpoint("\(error); no checkpoint was written for step \(globalStep)") }
        let state = snapshot(optimizerBuffers: optimizerBuffers)
        try requireFinite(state)
        let destinations: [CheckpointDestination] = (best ? [.named(Self.bestFileName)] : []) + (rolling ? [.rolling] : [])
        try checkingSave { try writer.save(state, to: destinations) }
        if best, let metric = options.keepBest, let value = runState.best.value {
            // Written in the background: a failure ends the run at the next save or at its end.
            progress.log("best \(metric) so far: \(value) at epoch \(runState.best.epoch), being written to "
                         + CheckpointDirectory(checkpointDirectory).path(of: Self.bestFileName))
        }
        checkpointStallSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if rolling { checkpointsSaved += 1 }
    }

    /// Refuses to checkpoint a state that holds NaN or infinity (a
    /// `--weight-decay` of 1e30 makes Adam's `exp_avg_sq` infinite while the
    /// parameters stay finite): the last good checkpoint stays the newest.
    private func requireFinite(_ state: TrainingState) throws {
        var bad = state.parameters.values.allSatisfy(\.isFinite) ? nil : "the parameters"
        for (name, values) in state.optimizer.buffers.sorted(by: { $0.key < $1.key }) where bad == nil && !values.allSatisfy(\.isFinite) {
            bad = "the optimizer's \(name)"
        }
        if bad == nil && !state.buffers.values.allSatisfy(\.isFinite) { bad = "the model's buffers" }
        guard let bad else { return }
        throw TrainingError.checkpoint("\(bad) hold NaN or infinite values after step \(globalStep) (is --lr or --weight-decay "
                                       + "too large?); no checkpoint was written for this step, the previous ones are intact")
    }

    /// Runs `body` (a call on the checkpoint writer), turning the error of a
    /// failed write into one that says what it means for the run.
    ///
    /// The run ends rather than training on: a full disk or a broken mount
    /// rarely mends itself, and every step trained past the last good
    /// checkpoint would be lost to the next failure anyway. The writer has
    /// already removed its temporary file, and the checkpoints written
    /// before are untouched (nothing is pruned before a save completes).
    private func checkingSave<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            let directory = checkpointDirectory
            let newest = (try? CheckpointDirectory(directory).checkpoints().last?.path) ?? nil
            throw TrainingError.checkpoint(
                "saving a checkpoint failed: \(error). The run stops here; "
                + (newest.map { "the checkpoints written before are intact (newest \($0)); " } ?? "")
                + "fix the cause (free space in \(directory)) and run the same command again to resume")
        }
    }

    /// Loss and accuracy (or reconstruction error) on the whole test set,
    /// the ranks sharing the work (see `evaluate`): no padding, no
    /// duplicates, and the same bits at any world size.
    public func evaluateTestSet() throws -> EvaluationResult {
        try evaluateShards(of: evaluationSet)
    }

    /// In eval mode (Dropout off, BatchNorm on its running estimates), as
    /// torch's `model.eval()`; training mode again afterwards.
    private func evaluateShards(of dataset: any Dataset) throws -> EvaluationResult {
        model.eval()
        defer { model.train() }
        return try evaluate(model, objective: objective, dataset: dataset, chunkSize: options.evaluationBatchSize,
                            communicator: communicator)
    }

    /// FNV-1a over the bytes of every parameter.
    public func parameterChecksum() -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let bytes = UnsafeRawBufferPointer(parameters.values.buffer)
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    /// Throws unless every rank holds bitwise the same parameters.
    private func checkReplicas() throws {
        guard let communicator, worldSize > 1 else { return }
        let mine = parameterChecksum()
        let root = try communicator.broadcast([mine], root: 0)[0]
        let differing = try communicator.allreduceSum(mine == root ? Int64(0) : Int64(1))
        if differing != 0 { throw TrainingError.replicasDiverged(step: globalStep) }
    }

    /// The epoch's figures as TensorBoard scalars ("epoch/train_loss", "epoch/test_accuracy", ...).
    private func tensorboardScalars(_ r: EpochRecord) -> [(tag: String, value: Double)] {
        var scalars: [(tag: String, value: Double)] = [("epoch/train_loss", r.trainLoss), ("epoch/test_loss", r.test.loss),
                                                       ("epoch/lr", r.learningRate)]
        for (name, _, _) in r.test.metrics { scalars.append(("epoch/test_\(name)", r.test.value(of: name) ?? .nan)) }
        if let validation = r.validation {
            scalars.append(("epoch/val_loss", validation.loss))
            for (name, _, _) in validation.metrics { scalars.append(("epoch/val_\(name)", validation.value(of: name) ?? .nan)) }
        }
        if let norm = r.gradientNorm { scalars.append(("epoch/grad_norm", norm)) }
        return scalars
    }

    /// Writes the parameters as raw little-endian float32, state_dict order,
    /// replacing the file durably and never through a link (`replaceFile`).
    public func saveParameters(to path: String) throws {
        let bytes = Array(UnsafeRawBufferPointer(UnsafeBufferPointer(parameters.values.buffer)))
        try TrainingOptions.refuseHDF5(path)
        do {
            try replaceFile(at: path, with: bytes)
        } catch {
            throw TrainingError.cannotWrite(path: path, reason: "--save-parameters: \(error is FileSystemError ? "\(error)" : fileSystemReason(error))")
        }
    }

    private func report(_ r: EpochRecord) throws {
        var line = "epoch \(r.epoch)/\(options.epochs): train_loss \(format(r.trainLoss, 4)) "
            + "test_loss \(format(r.test.loss, 4)) "
        for (name, _, _) in r.test.metrics {
            line += "test_\(name) \(format(r.test.value(of: name) ?? .nan, name == "accuracy" ? 4 : 5)) "
        }
        if let validation = r.validation {
            line += "val_loss \(format(validation.loss, 4)) "
            for (name, _, _) in validation.metrics {
                line += "val_\(name) \(format(validation.value(of: name) ?? .nan, name == "accuracy" ? 4 : 5)) "
            }
        }
        if schedule != nil { line += "lr \(r.learningRate) " }
        if let norm = r.gradientNorm { line += "grad_norm \(format(norm, 4)) " }
        line += "\(Int(r.samplesPerSecond)) samples/s \(format(r.seconds, 1))s"
        progress.log(line)
        guard let metrics else { return }
        var json = JSONRecord()
        json.add("event", "epoch")
        json.add("run", runID)
        json.add("epoch", r.epoch)
        json.add("step", r.step)
        json.add("model", identity.name)
        json.add("world_size", worldSize)
        json.add("train_loss", r.trainLoss)
        json.add("test_loss", r.test.loss)
        for (name, _, _) in r.test.metrics { json.add("test_\(name)", r.test.value(of: name) ?? .nan) }
        if let train = r.train {
            json.add("train_eval_loss", train.loss)
            for (name, _, _) in train.metrics { json.add("train_\(name)", train.value(of: name) ?? .nan) }
        }
        if let validation = r.validation {
            json.add("val_loss", validation.loss)
            for (name, _, _) in validation.metrics { json.add("val_\(name)", validation.value(of: name) ?? .nan) }
        }
        json.add("lr", r.learningRate)
        if let norm = r.gradientNorm { json.add("grad_norm", norm) }
        json.add("samples_per_s", r.samplesPerSecond)
        json.add("epoch_seconds", r.seconds)
        try metrics.append(json)
    }
}
