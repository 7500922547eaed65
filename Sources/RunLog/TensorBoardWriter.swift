#if canImport(Glibc)
import Glibc
import SafeFiles
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// The `<n>` of event file names: how many writers this process opened before.
private let openedWriterCount = Atomic<Int>(0)

/// Writes scalars (loss, accuracy, learning rate, ...) as a TensorBoard event
/// file in a directory (`--tensorboard DIR`), so `tensorboard --logdir DIR`
/// charts a run while it trains and after it is resumed.
///
/// Each writer creates a new file (see `TensorBoardEventFile` for the format
/// and the name) whose first record says `brain.Event:2` and names this
/// program as the writer. Scalars are buffered in memory and written by
/// `flush()` (call it at least at every epoch end), by `close()`, and when
/// the buffer passes 64 KiB. Flushing does not fsync: a process killed with
/// SIGKILL loses nothing already flushed, at worst the last record is cut
/// short, and the reader tolerates that; only a power cut can lose more.
///
/// Resuming: a run that resumes from a checkpoint at global step S was
/// usually killed after step S, and had already written points for steps
/// after S, which the resumed run computes and writes again. TensorBoard's
/// Python loader (`--load_fast=false`, and `EventAccumulator`, which scripts
/// and notebooks use) then returns two points for each step after S, the
/// series running to the killed run's last step and jumping back (checked
/// with TensorBoard 2.21; its Rust data server happens to drop the stale ones).
/// So `resumingAfterStep: S` first rewrites every event file in the directory
/// that this run produced (marked with its run id), keeping only records with step <= S and
/// dropping a damaged tail; a file left with no scalars is removed. Each
/// rewrite goes to a temporary file (whose name TensorBoard ignores), is
/// fsynced and renamed over the original, so a crash during it leaves the old
/// or the new file, never a torn one. Files of other runs and writers are left alone.
///
/// A fresh run (`resumingAfterStep: nil`) touches no existing file: it just
/// adds its own file, so a directory shared by several runs keeps them all
/// (point each run at its own directory for separate charts).
///
/// Not thread-safe: use one writer from one thread (rank 0's training loop).
public final class TensorBoardWriter {
    /// `SourceMetadata.writer` in the first record of our files: the mark the
    /// resume rewrite checks before touching a file.
    public static let writerName = "swiftddp"

    /// Buffered bytes beyond which `addScalar` writes to the file without waiting for `flush()`.
    static let bufferLimit = 1 << 16

    /// The directory given, as a path.
    public let directory: String
    /// The event file this writer appends to.
    public let path: String
    /// One line per file the resume rewrite changed or removed (empty for a
    /// fresh run or when nothing needed changing), for the trainer to log.
    public let resumeRepairs: [String]

    private var descriptor: Int32
    private var pending: [UInt8] = []

    /// Opens a new event file in `directory`, creating the directory if it is
    /// missing; with `resumingAfterStep`, first removes the records with a
    /// later step from the event files this writer produced there.
    ///
    /// - Parameters:
    ///   - directory: where the event files go (`--tensorboard DIR`).
    ///   - resumingAfterStep: the global step of the checkpoint being resumed,
    ///     or nil for a fresh run.
    ///   - ownsUnmarkedFiles: the resumed checkpoint was written before runs
    ///     had ids, so files marked with no run are this run's to trim too.
    ///   - hostname: the `<hostname>` part of the file name.
    ///   - wallTime: the time the file is started, in seconds since 1970.
    public init(directory: String, run: String = "", resumingAfterStep: Int? = nil, ownsUnmarkedFiles: Bool = false,
                hostname: String = TensorBoardWriter.hostname(),
                wallTime: Double = Date().timeIntervalSince1970) throws(TensorBoardError) {
        self.directory = directory
        try Self.createDirectory(directory)
        if let step = resumingAfterStep {
            let marks = Set([Self.writerMark(run: run)] + (ownsUnmarkedFiles ? [Self.writerMark(run: "")] : []))
            resumeRepairs = try Self.dropRecords(after: step, in: directory, writtenBy: marks)
        } else {
            resumeRepairs = []
        }
        let index = openedWriterCount.wrappingAdd(1, ordering: .relaxed).oldValue
        let seconds = wallTime.isFinite && abs(wallTime) < 1e15 ? Int(wallTime) : 0
        let name = try Self.newFileName(in: directory, seconds: seconds, hostname: hostname, index: index)
        path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
        do {
            descriptor = try createNewFile(at: path, replacingStale: false)
        } catch {
            throw .cannotWrite(path: path, reason: "\(error)")
        }
        let header = TensorBoardEvent(wallTime: wallTime, step: 0, fileVersion: TensorBoardEvent.fileVersion,
                                      writer: Self.writerMark(run: run))
        pending = TensorBoardEventFile.frame(header.encoded())
        // Written at once, so an unwritable directory fails here, before training starts.
        try flush()
    }

    /// The same as `URL(fileURLWithPath: directory)`.
    public convenience init(directory: URL, resumingAfterStep: Int? = nil) throws(TensorBoardError) {
        try self.init(directory: directory.path, resumingAfterStep: resumingAfterStep)
    }

    deinit {
        try? close()
    }

    /// Adds the point (`step`, `value`) to the chart `tag` (e.g. "train/loss").
    ///
    /// `value` is stored as a 32-bit float (TensorBoard's `simple_value`).
    public func addScalar(_ tag: String, _ value: Double, step: Int,
                          wallTime: Double = Date().timeIntervalSince1970) throws(TensorBoardError) {
        try addScalars([(tag, value)], step: step, wallTime: wallTime)
    }

    /// Adds several points of the same step as one event (one record).
    public func addScalars(_ values: [(tag: String, value: Double)], step: Int,
                           wallTime: Double = Date().timeIntervalSince1970) throws(TensorBoardError) {
        guard descriptor >= 0 else { throw .writerClosed(path: path) }
        let scalars = values.map { TensorBoardScalar(tag: $0.tag, value: Float($0.value)) }
        let event = TensorBoardEvent(wallTime: wallTime, step: step, scalars: scalars)
        pending += TensorBoardEventFile.frame(event.encoded())
        if pending.count >= Self.bufferLimit {
            try flush()
        }
    }

    /// Writes the buffered records to the file, so TensorBoard (and a resume
    /// after a kill) sees them.
    public func flush() throws(TensorBoardError) {
        guard descriptor >= 0 else { throw .writerClosed(path: path) }
        let (written, failure) = writeAll(descriptor, pending)
        if let failure {
            pending.removeFirst(written)
            throw .cannotWrite(path: path, reason: failure)
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the file. Calling it again does nothing.
    public func close() throws(TensorBoardError) {
        guard descriptor >= 0 else { return }
        defer {
            _ = closeDescriptor(descriptor)
            descriptor = -1
        }
        try flush()
    }

    /// This machine's name (`gethostname`), the `<hostname>` of file names.
    public static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty || name.contains("/") ? "localhost" : name
    }

    // MARK: Opening

    /// Creates `directory` if it is missing (`createDirectories(at:)`);
    /// refuses one that another user owns or can write to
    /// (`foreignDirectoryProblem(_:)`), whose files others could replace.
    private static func createDirectory(_ directory: String) throws(TensorBoardError) {
        do {
            try createDirectories(at: directory)
        } catch {
            throw .cannotCreateDirectory(path: directory, reason: "\(error)")
        }
        if let problem = foreignDirectoryProblem(directory) {
            throw .foreignDirectory(path: directory, reason: problem)
        }
    }

    /// A name for the new file that sorts after every event file already in
    /// `directory`: TensorBoard reads a directory's files in name order and
    /// does not go back to a file that sorts before one it has read, so the
    /// resumed run's file must come last even if it starts within the same
    /// second as the killed run's file (or on a machine whose clock is
    /// behind). The `<seconds>` part is then moved just past the newest file's.
    private static func newFileName(in directory: String, seconds: Int, hostname: String,
                                    index: Int) throws(TensorBoardError) -> String {
        let pid = getpid()
        var name = TensorBoardEventFile.name(seconds: seconds, hostname: hostname, pid: pid, index: index)
        let existing = try TensorBoardEventFile.files(in: directory).map { URL(fileURLWithPath: $0).lastPathComponent }
        // The newest name may be anyone's: its seconds are read with overflow in mind (a foreign file
        // named for second Int.max cannot be passed, so the new name just follows this clock).
        if let newest = existing.max(), name <= newest, let newestSeconds = TensorBoardEventFile.seconds(inName: newest),
           case let (next, overflow) = newestSeconds.addingReportingOverflow(1), !overflow {
            name = TensorBoardEventFile.name(seconds: max(seconds, next), hostname: hostname, pid: pid, index: index)
        }
        return name
    }

    // MARK: Resuming

    /// The `SourceMetadata.writer` of run `run`'s files: this program's
    /// name and the run id (the checkpoints' `run_id`), so that a resume
    /// rewrites its own run's files and never another run's in the same
    /// directory ("swiftddp" alone: a file written before runs were named,
    /// or by a writer given no run).
    public static func writerMark(run: String) -> String {
        run.isEmpty ? writerName : "\(writerName) run \(run)"
    }

    /// Rewrites the event files in `directory` whose writer mark is one of
    /// `marks` without the records after `step` and without a damaged
    /// tail; returns one line per file changed.
    static func dropRecords(after step: Int, in directory: String, writtenBy marks: Set<String>) throws(TensorBoardError) -> [String] {
        var repairs: [String] = []
        for file in try TensorBoardEventFile.files(in: directory) {
            let scan = try TensorBoardEventFile.scan(file)
            guard let first = scan.records.first?.event, first.fileVersion != nil, let writer = first.writer, marks.contains(writer) else {
                continue  // another run's, not ours, or not even one readable record: leave it as it is
            }
            let kept = scan.records.filter { $0.event.fileVersion != nil || $0.event.step <= step }
            guard kept.count < scan.records.count || scan.damage != nil else { continue }
            let name = URL(fileURLWithPath: file).lastPathComponent
            var what = "dropped \(scan.records.count - kept.count) record(s) after step \(step)"
            if let damage = scan.damage {
                what += " and a damaged tail (\(damage))"
            }
            if !kept.contains(where: { !$0.event.scalars.isEmpty }) {
                guard unlink(file) == 0 else {
                    throw .cannotWrite(path: file, reason: systemError("unlink"))
                }
                repairs.append("\(name): removed (\(what); no scalars left)")
                continue
            }
            try replace(file, with: kept.flatMap(\.framed))
            repairs.append("\(name): \(what)")
        }
        return repairs
    }

    /// Replaces `file` by `bytes` atomically: a temporary file beside it,
    /// fsynced, renamed over it. The temporary name lacks `tfevents`, so
    /// TensorBoard never reads a half-written copy.
    private static func replace(_ file: String, with bytes: [UInt8]) throws(TensorBoardError) {
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let temporary = URL(fileURLWithPath: directory)
            .appendingPathComponent(".tensorboard-rewrite.\(getpid()).tmp").path
        do {
            try writeFile(bytes, to: temporary)
        } catch {
            _ = unlink(temporary)
            throw .cannotWrite(path: temporary, reason: "\(error)")
        }
        do {
            try durableReplace(temporary: temporary, destination: file)
        } catch {
            _ = unlink(temporary)
            throw .cannotWrite(path: file, reason: "\(error)")
        }
    }

    static func systemError(_ call: String) -> String {
        let code = errno
        return "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// Writes all of `bytes` to `descriptor`, retrying short writes and EINTR;
/// returns how many bytes were written and, if it stopped early, why.
private func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> (written: Int, failure: String?) {
    var written = 0
    while written < bytes.count {
        let result = bytes[written...].withUnsafeBytes { buffer in
            buffer.baseAddress.map { write(descriptor, $0, buffer.count) } ?? 0
        }
        if result < 0 {
            if errno == EINTR { continue }
            return (written, TensorBoardWriter.systemError("write"))
        }
        written += result
    }
    return (written, nil)
}

/// `close(2)`, under a name the writer's own `close()` does not hide.
private func closeDescriptor(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}
