/// One checkpoint file in a directory, named by its step.
public struct CheckpointEntry: Sendable, Equatable {
    /// The file.
    public let path: String
    /// The step in its name.
    public let globalStep: Int

    public init(path: String, globalStep: Int) {
        self.path = path
        self.globalStep = globalStep
    }
}

/// A checkpoint that was read and verified.
public struct LoadedCheckpoint: Sendable, Equatable {
    /// The file it came from.
    public let path: String
    /// Its contents.
    public let state: TrainingState

    public init(path: String, state: TrainingState) {
        self.path = path
        self.state = state
    }

    /// The run it belongs to (nil for files written before run ids).
    public var runID: String? { state.extra[CheckpointFile.runIDKey] }
}

/// A checkpoint passed over while resuming, and why.
public struct SkippedCheckpoint: Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public let path: String
    /// The error that reading it gave, in words (names the dataset and the
    /// checksums for corrupt data).
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "skipped \(path): \(reason)" }
}

/// What `CheckpointDirectory.latestValid()` found.
public struct CheckpointSearch: Sendable, Equatable {
    /// The newest valid checkpoint, or nil if there is none.
    public let checkpoint: LoadedCheckpoint?
    /// The newer checkpoints that were not valid, newest first: report them.
    public let skipped: [SkippedCheckpoint]
    /// Files of writes that never finished; ignored (remove them with
    /// `CheckpointDirectory.removeTemporaryFiles()`).
    public let temporaryFiles: [String]

    public init(checkpoint: LoadedCheckpoint?, skipped: [SkippedCheckpoint], temporaryFiles: [String]) {
        self.checkpoint = checkpoint
        self.skipped = skipped
        self.temporaryFiles = temporaryFiles
    }
}

/// A finished `CheckpointDirectory.save(_:)`.
public struct SavedCheckpoint: Sendable, Equatable {
    /// The checkpoint file.
    public let path: String
    /// Its step.
    public let globalStep: Int
    /// Its size on disk.
    public let bytes: Int
    /// Wall time of the whole save: write, fsyncs, renames, pruning.
    public let seconds: Double
    /// Older checkpoints deleted after it was complete.
    public let pruned: [String]

    public init(path: String, globalStep: Int, bytes: Int, seconds: Double, pruned: [String]) {
        self.path = path
        self.globalStep = globalStep
        self.bytes = bytes
        self.seconds = seconds
        self.pruned = pruned
    }
}
