import ArgumentParser
import Collective
import DataFiles
import DataLoading
import Foundation
import ModelZoo
import RunLog
import SafeFiles
import Training

extension TrainingOptions.OptimizerKind: ExpressibleByArgument {}
extension OverridableSetting: ExpressibleByArgument {}
extension ScheduleOptions.Kind: ExpressibleByArgument {}
extension ScheduleOptions.Unit: ExpressibleByArgument {}
extension ModelZoo.ModelTask: ExpressibleByArgument {}
extension ReconstructionLoss: ExpressibleByArgument {}

/// `trainer train`: the flags map one to one onto `TrainingConfiguration`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model and report test loss and accuracy after each epoch.")

    @Option(help: "Model: \(ModelKind.all.map { $0.options.isEmpty ? $0.name : "\($0.name) (\($0.options.map(\.flag).joined(separator: " ")))" }.joined(separator: ", ")).")
    var model = "mlp"

    @Option(parsing: .unconditional, help: "Hidden width of the mlp, and the width of highway's layers.")
    var hidden = 128

    @Option(parsing: .unconditional, help: "Dropout probability after the mlp's hidden activation, in [0, 1) (0: no Dropout layer).", transform: NumberArgument.float32Double)
    var dropout = 0.0

    @Option(parsing: .unconditional, help: "Code size of autoencoder, tied-autoencoder and highway --task reconstruct.")
    var latent = 64

    @Option(help: "Encoder widths of deep-autoencoder, comma-separated; the decoder mirrors them.")
    var layers = "500,100,30"

    @Option(parsing: .unconditional, help: "Number of highway layers (in each of encoder and decoder when reconstructing).")
    var depth = 3

    @Option(help: "What the model learns: classify, reconstruct (auto-encoders and highway) or regress (float targets of a --data file; the classifiers and highway). Default: the model's own.")
    var task: ModelZoo.ModelTask?

    @Option(help: "Training loss of reconstruction models: bce or mse (the test figures report both).")
    var loss: ReconstructionLoss = .bce

    @Flag(help: "Print the model's layers, output shapes and parameter counts before training.")
    var summary = false

    @OptionGroup(title: "Data") var source: DataOptions

    @Option(parsing: .upToNextOption, help: "Train on your own HDF5 file instead: datasets x [N, ...] (uint8 or float32) and y [N] (integer classes) or [N, k] (float targets: the model regresses), optionally x_test and y_test. Several files, or a directory (its *.h5 files in name order), are shards of one data set, concatenated in the order given.")
    var data: [String] = []

    @Option(parsing: .unconditional, help: "Hold out this fraction of the training set (drawn from the seed, the same at any world size) and evaluate it after every epoch (val_loss, val_accuracy). With --data and no x_test in the file, the fraction (default 0.1) of its last samples is the test set instead.")
    var valFraction: Double?

    @OptionGroup(title: "Optimization") var optimization: OptimizationOptions

    @OptionGroup(title: "Checkpoints") var checkpoints: CheckpointOptions

    @OptionGroup var threading: ThreadsOption

    @OptionGroup(title: "Parallelism") var parallel: ParallelOptions

    @OptionGroup(title: "Runtime") var runtime: RuntimeOptions

    func run() throws {
        // Inside Job.run, a bad option is a permanent error (exit 64).
        let (spec, configured) = try Job.run(nil) {
            let spec = ModelSpec(name: model, hidden: hidden, latent: latent, layers: try parsedLayers(),
                                 depth: depth, task: task, loss: loss, dropout: dropout)
            var c = TrainingConfiguration(model: spec)
            c.dataset = source.dataset ?? "fashion-mnist"
            c.dataDirectory = source.dataDir
            try optimization.apply(to: &c.options)
            try checkpoints.apply(to: &c.options)
            c.validationFraction = valFraction ?? 0
            parallel.apply(to: &c.options)
            runtime.apply(to: &c.options)
            return (spec, c)
        }
        var c = configured
        let communicator = try Job.communicator()
        // Deterministic mode keeps the thread count out of the arithmetic.
        c.threads = threading.resolved(communicator, oneByDefault: runtime.deterministic)
        try Job.run(communicator) {
            let trainer = try data.isEmpty ? Trainer(configuration: c, communicator: communicator)
                : fileTrainer(data, spec: spec, c, communicator)
            if summary { trainer.logModelSummary() }
            try trainer.run()
            if trainer.rank == 0 && trainer.checkpointsSaved > 0 {
                let seconds = String(format: "%.1f", trainer.checkpointStallSeconds * 1000)
                trainer.progress.log("checkpoints: \(trainer.checkpointsSaved) saved in \(c.resolvedCheckpointDirectory), "
                                     + "training thread stalled \(seconds) ms in total")
            }
        }
    }
}

extension TrainCommand {
    /// `--data FILE...`: the zoo model on the user's HDF5 files, classifying
    /// their integer labels or regressing on their float targets.
    func fileTrainer(_ paths: [String], spec: ModelSpec, _ c: TrainingConfiguration, _ communicator: Communicator?) throws -> Trainer {
        if source.dataset != nil || source.dataDir != nil {
            throw TrainingError.invalidOption(.dataFile, "takes the place of --dataset and --data-dir; give one or the other")
        }
        let shards = try paths.flatMap(Self.dataFiles)
        // The name checkpoints record, and messages use.
        let path = paths.joined(separator: " ")
        for shard in shards { try CheckDataCommand.preflight(shard, validationFraction: valFraction ?? 0.1) }
        let splits = try HDF5DataFile.load(shards: shards, validationFraction: valFraction ?? 0.1)
        var spec = spec
        if let classes = splits.classes {
            spec.classes = classes
        } else if spec.task != .reconstruct {  // a reconstruction ignores the targets
            if let task, task != .regress {
                throw TrainingError.invalidOption(.task, "\(path) has float targets, so the model regresses on them, not \(task.rawValue)")
            }
            spec.task = .regress
            spec.classes = splits.train.targetShape.reduce(1, *)
        }
        var options = c.options
        options.checkpointDirectory = c.resolvedCheckpointDirectory
        if splits.note != nil {  // --val-fraction made the test set
            if let metric = options.keepBest, metric.split == .validation {
                throw TrainingError.invalidOption(.keepBest, "\(metric) needs a validation set, but \(path) has no x_test, so "
                                                  + "--val-fraction holds out its last samples as the test set instead; watch "
                                                  + "test_\(metric.name), or add x_test and y_test to the file "
                                                  + "(--val-fraction then holds out a validation set)")
            }
            options.validationFraction = 0
        }
        return try Trainer(zoo: spec, train: splits.train, evaluation: splits.test, options: options,
                           datasetName: path, note: splits.note, world: communicator.map { .communicator($0) } ?? .alone)
    }

    /// One path of `--data`: the file, or a directory's `*.h5` files (shards
    /// of one data set) in the order of their names.
    static func dataFiles(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw TrainingError.invalidOption(.dataFile, "\(path): cannot list the directory: \(fileSystemReason(error))")
        }
        let shards = names.filter { $0.hasSuffix(".h5") && !$0.hasPrefix(".") }.sorted()
            .map { (path as NSString).appendingPathComponent($0) }
        guard !shards.isEmpty else {
            throw TrainingError.invalidOption(.dataFile, "\(path) is a directory without .h5 files; give a file, or a directory "
                                              + "of shards (x, y and optionally x_test, y_test in each)")
        }
        return shards
    }

    /// `--layers` as widths, or the error naming the flag.
    func parsedLayers() throws -> [Int] {
        try ModelSpec.parseLayers(layers)
    }
}
