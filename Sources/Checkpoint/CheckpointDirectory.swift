import Foundation
import HDF5
import SafeFiles

/// A directory of checkpoints: `ckpt-<global_step>.h5` files (the step
/// zero-padded to 8 digits, so names sort like steps), a `latest` text file
/// naming the newest, and at most `keep` checkpoints.
///
/// One process writes to a directory at a time (rank 0); any number may read.
/// Resuming does not trust `latest` (it is for people and scripts): it scans
/// every checkpoint newest first and takes the first valid one, so a crash
/// between a checkpoint's rename and the pointer's update loses nothing.
public struct CheckpointDirectory: Sendable {
    /// The directory.
    public let path: String
    /// How many checkpoints `save(_:)` leaves behind.
    public let keep: Int

    /// The name of the pointer file that holds the newest checkpoint's name.
    public static let latestFileName = "latest"

    /// Checkpoints in the directory at `path`, keeping the newest `keep`.
    /// Nothing is touched on disk until `create()` or `save(_:)`.
    public init(_ path: String, keep: Int = 3) {
        precondition(keep >= 1, "A checkpoint directory must keep at least 1 checkpoint, got \(keep)")
        self.path = path
        self.keep = keep
    }

    /// "ckpt-00001200.h5" for step 1200; more digits past 99,999,999.
    public static func fileName(globalStep: Int) -> String {
        precondition(globalStep >= 0, "Global step must be non-negative, got \(globalStep)")
        let digits = String(globalStep)
        return "ckpt-" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".h5"
    }

    /// The step in a checkpoint file name ("ckpt-00001200.h5" gives 1200),
    /// or nil for any other name.
    public static func globalStep(fromFileName name: String) -> Int? {
        guard name.hasPrefix("ckpt-"), name.hasSuffix(".h5") else { return nil }
        let digits = name.dropFirst(5).dropLast(3)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    /// The full path of `name` inside the directory.
    public func path(of name: String) -> String {
        (path as NSString).appendingPathComponent(name)
    }

    /// Creates the directory (mode 0755) and its parents if they are missing, and
    /// returns the ones it created, innermost first (for `removeIfEmpty`).
    /// A path that is not a directory, or whose parent is not, throws
    /// `CheckpointError.directory` saying what it is.
    @discardableResult
    public func create() throws -> [String] {
        do {
            return try createDirectories(at: path).reversed()
        } catch {
            // "X is a regular file, not a directory"; otherwise which part failed and why.
            throw CheckpointError.directory(path: path, reason: error.isLast && error.problem.hasPrefix("is ")
                                            ? error.problem : "cannot be created: \(error)")
        }
    }

    /// Removes `created` (from `create()`), innermost first, each only if
    /// it is still empty: a run refused before it wrote anything leaves no
    /// directory behind, and nothing of anyone else's is touched.
    public static func removeIfEmpty(_ created: [String]) {
        for directory in created where rmdir(directory) != 0 { return }
    }

    // MARK: Listing

    /// The checkpoint files, oldest step first, valid or not (a missing
    /// directory has none). Only regular files (or links to them): opening a
    /// FIFO or a device with a checkpoint's name would block or never end.
    public func checkpoints() throws -> [CheckpointEntry] {
        try checkpointNames().filter { isRegularFile(path(of: $0)) }.compactMap { name in
            Self.globalStep(fromFileName: name).map { CheckpointEntry(path: path(of: name), globalStep: $0) }
        }
        .sorted { $0.globalStep < $1.globalStep }
    }

    /// Entries with a checkpoint's name that are not regular files
    /// (directories, FIFOs, devices): never read, reported by `latestValid()`.
    public func irregularEntries() throws -> [String] {
        try checkpointNames().filter { !isRegularFile(path(of: $0)) }.sorted().map { path(of: $0) }
    }

    private func checkpointNames() throws -> [String] {
        try fileNames().filter { Self.globalStep(fromFileName: $0) != nil }
    }

    /// Files left by writes that never finished (a killed process): hidden
    /// `.ckpt-*.tmp` and `.latest.tmp` names. Never read as checkpoints.
    public func temporaryFiles() throws -> [String] {
        try fileNames().filter(Self.isTemporary).sorted().map { path(of: $0) }
    }

    /// Deletes the files of `temporaryFiles()`. Call it only while no write
    /// to this directory is under way (the one writer owns the directory).
    public func removeTemporaryFiles() throws {
        for file in try temporaryFiles() {
            try FileManager.default.removeItem(atPath: file)
        }
    }

    /// The file name held by `latest`, or nil if there is none.
    public func latest() -> String? {
        guard let text = try? String(contentsOfFile: path(of: Self.latestFileName), encoding: .utf8) else {
            return nil
        }
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return name.isEmpty ? nil : name
    }

    // MARK: Saving

    /// Writes `state` as `ckpt-<global_step>.h5` so that a crash at any
    /// moment leaves the previous checkpoints intact: written to a hidden
    /// temporary file in the same directory, closed, fsynced, renamed into
    /// place, directory fsynced; then `latest` is replaced the same way; and
    /// only then are checkpoints beyond the newest `keep` deleted (those with
    /// steps up to this one: files from a later step, left by an earlier run
    /// that this one resumed before, are not touched) along with leftover
    /// temporary files.
    ///
    /// The directory must exist (`create()`). A checkpoint of the same step
    /// is replaced. Throws the `HDF5Error` or `FileSystemError` of a failed
    /// write, after removing the temporary file.
    @discardableResult
    public func save(_ state: TrainingState) throws -> SavedCheckpoint {
        let start = ContinuousClock.now
        let name = Self.fileName(globalStep: state.globalStep)
        let destination = try write(state, as: name)
        try writeLatest(name)
        let pruned = try prune(after: state.globalStep)
        try removeTemporaryFiles()
        return SavedCheckpoint(path: destination, globalStep: state.globalStep, bytes: fileSize(destination),
                               seconds: seconds(since: start), pruned: pruned)
    }

    /// Writes `state` as `name` beside the rolling checkpoints (`best.h5`),
    /// as atomically as they are; `latest` does not name it and pruning
    /// never deletes it.
    @discardableResult
    public func save(_ state: TrainingState, as name: String) throws -> SavedCheckpoint {
        let start = ContinuousClock.now
        let destination = try write(state, as: name)
        return SavedCheckpoint(path: destination, globalStep: state.globalStep, bytes: fileSize(destination),
                               seconds: seconds(since: start), pruned: [])
    }

    /// Writes `state` to a temporary file, syncs it and renames it to
    /// `name` (removing the temporary file on failure); returns the path.
    private func write(_ state: TrainingState, as name: String) throws -> String {
        let destination = path(of: name)
        let temporary = path(of: "." + name + ".tmp")
        do {
            try CheckpointFile.write(state, to: temporary)
            try durableReplace(temporary: temporary, destination: destination)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        return destination
    }

    /// Replaces `latest` with `name` + newline, durably.
    private func writeLatest(_ name: String) throws {
        try replaceFile(at: path(of: Self.latestFileName), with: Array((name + "\n").utf8))
    }

    /// Deletes checkpoints older than the newest `keep` among those with
    /// steps up to `step`; returns their paths. A file of a newer format
    /// than this program reads is never deleted: it is not this run's.
    private func prune(after step: Int) throws -> [String] {
        let candidates = try checkpoints().filter {
            $0.globalStep <= step && (CheckpointFile.peek($0.path).formatVersion ?? 0) <= CheckpointFile.formatVersion
        }
        let doomed = candidates.dropLast(keep).map(\.path)
        for file in doomed {
            try FileManager.default.removeItem(atPath: file)
        }
        return doomed
    }

    // MARK: Resuming

    /// The newest checkpoint that reads back whole (every required attribute
    /// present, every checksum right), with each newer one that did not and
    /// why. Finding none is not an error: `checkpoint` is then nil.
    ///
    /// A newer file in a format this program cannot read stops the search
    /// (`CheckpointError.unsupportedVersion`): it is not damaged, it was
    /// written by a newer program, and resuming from an older file would go
    /// on to overwrite it. inspect, eval and `--resume auto` all choose by
    /// this rule.
    public func latestValid() throws -> CheckpointSearch {
        var skipped = try irregularEntries().map { SkippedCheckpoint(path: $0, reason: "not a regular file") }
        for entry in try checkpoints().reversed() {
            do {
                let state = try CheckpointFile.read(entry.path)
                return CheckpointSearch(checkpoint: LoadedCheckpoint(path: entry.path, state: state),
                                        skipped: skipped, temporaryFiles: try temporaryFiles())
            } catch let error as CheckpointError {
                if case .unsupportedVersion = error { throw error }
                skipped.append(SkippedCheckpoint(path: entry.path, reason: "\(error)"))
            } catch {
                skipped.append(SkippedCheckpoint(path: entry.path, reason: "\(error)"))
            }
        }
        return CheckpointSearch(checkpoint: nil, skipped: skipped, temporaryFiles: try temporaryFiles())
    }

    /// `CheckpointDirectory(path).latestValid()`.
    public static func latestValid(in path: String) throws -> CheckpointSearch {
        try CheckpointDirectory(path).latestValid()
    }

    /// Moves `entries`, `latest` and the files called `names` (such as the
    /// best model) that exist into a new sub-directory `replaced-<UTC time>`
    /// of this one and returns its path: how a new run takes over a
    /// directory that holds another run's files (`--overwrite`) without
    /// deleting anything.
    public func moveAside(_ entries: [CheckpointEntry], alongWith names: [String] = []) throws -> String {
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        var folder = path(of: "replaced-" + stamp)
        var suffix = 1
        while FileManager.default.fileExists(atPath: folder) {
            suffix += 1
            folder = path(of: "replaced-\(stamp)-\(suffix)")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        var moving = entries.map(\.path)
        for name in [Self.latestFileName] + names where FileManager.default.fileExists(atPath: path(of: name)) {
            moving.append(path(of: name))
        }
        for file in moving {
            let name = (file as NSString).lastPathComponent
            guard rename(file, (folder as NSString).appendingPathComponent(name)) == 0 else {
                throw FileSystemError(path: file, operation: "move into '\(folder)'", code: errno)
            }
        }
        return folder
    }

    // MARK: Helpers

    /// Names in the directory; none if it does not exist.
    private func fileNames() throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else {
            throw FileSystemError(path: path, operation: "list checkpoint directory", code: ENOTDIR)
        }
        return try FileManager.default.contentsOfDirectory(atPath: path)
    }

    private static func isTemporary(_ name: String) -> Bool {
        name.hasSuffix(".tmp") && (name.hasPrefix(".ckpt-") || name == "." + latestFileName + ".tmp")
    }
}

/// Whether `path` is a regular file (following links), without opening it.
func isRegularFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

/// The size of the file at `path` in bytes (0 if it cannot be read).
func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
}

/// Seconds elapsed since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}
