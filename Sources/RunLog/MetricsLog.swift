import Foundation
import SafeFiles
import TrainingErrors

/// One JSON object per line, appended to a file (`--metrics`), so runs can be
/// compared and plotted later and a resumed run continues the same file.
///
/// Each line names the run that wrote it (`"run"`, the checkpoints'
/// run id). A resumed run first drops the lines it wrote after the
/// checkpoint it resumes from (`dropRecords`), which it is about to write
/// again, and touches no other run's lines: the file reads as if the run
/// had never been interrupted, as TensorBoard's does.
public final class MetricsLog {
    fileprivate var handle: FileHandle
    public let path: String

    /// Opens `path` for appending, creating it (and its directory) if needed.
    public init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try createDirectories(at: directory)
            } catch {
                throw TrainingError.invalidOption(.metricsPath, "cannot create the directory \(directory) for \(path): \(error)")
            }
        }
        // Never through a link planted at the name (`openForAppending(at:mode:)`).
        do {
            handle = FileHandle(fileDescriptor: try openForAppending(at: path), closeOnDealloc: true)
        } catch {
            throw TrainingError.invalidOption(.metricsPath, "cannot open \(path) for appending: \(error)")
        }
    }

    deinit { try? handle.close() }

    /// Appends `record` as one line; a failed write (a full disk) throws,
    /// naming the file.
    public func append(_ record: JSONRecord) throws {
        do {
            try lockCurrentFile()
            defer { _ = flock(handle.fileDescriptor, LOCK_UN) }
            try handle.write(contentsOf: Data((record.text + "\n").utf8))
        } catch {
            throw TrainingError.invalidOption(.metricsPath, "cannot append to \(path): \(fileSystemReason(error))")
        }
    }

    /// Rewrites the file without run `run`'s lines for which `drop` holds
    /// (given the line's fields), and without an unfinished last line (a
    /// write cut short by a kill); returns how many lines went. Other runs'
    /// lines, and lines that are not JSON objects, stay as they are; lines
    /// without a run (written before runs had ids) count as `run`'s only
    /// when `includingUnmarked` (the resumed checkpoint has no id either).
    /// The rewrite replaces the file atomically (a temporary copy, fsynced,
    /// renamed over it), and later lines are appended to the new file.
    public func dropRecords(ofRun run: String, includingUnmarked: Bool = false,
                            where drop: ([String: Any]) -> Bool) throws -> Int {
        let text: String
        do {
            try lockCurrentFile()
        } catch {
            throw TrainingError.invalidOption(.metricsPath, "cannot lock \(path) to resume it: \(error)")
        }
        // Closing the handle (below, after the rename) releases the lock.
        defer { _ = flock(handle.fileDescriptor, LOCK_UN) }
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TrainingError.invalidOption(.metricsPath, "cannot read \(path) to resume it: \(fileSystemReason(error))")
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw TrainingError.invalidOption(.metricsPath, "\(path) is not text (not UTF-8), so not a metrics file of JSON "
                                              + "lines; it was left as it is: choose another --metrics path")
        }
        text = decoded
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let unfinished = lines.last.map { !$0.isEmpty } ?? false  // the text did not end with a newline
        lines.removeLast()
        var kept: [String] = []
        for line in lines {
            let fields = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if let fields, fields["run"] as? String == run || (includingUnmarked && fields["run"] == nil), drop(fields) {
                continue
            }
            kept.append(line)
        }
        let dropped = lines.count - kept.count + (unfinished ? 1 : 0)
        guard dropped > 0 else { return 0 }
        do {
            try replaceFile(at: path, with: Array(kept.map { $0 + "\n" }.joined().utf8))
            try handle.close()
            handle = FileHandle(fileDescriptor: try openForAppending(at: path), closeOnDealloc: true)
        } catch {
            throw TrainingError.invalidOption(.metricsPath, "cannot rewrite \(path) to resume it: \(error)")
        }
        return dropped
    }
}

extension MetricsLog {
    /// Takes an exclusive lock on the file `path` names now, reopening the
    /// handle first when another run's `dropRecords` has replaced the file
    /// (renamed a new one over it): several runs may share one --metrics
    /// file, and lines appended to the replaced file would be lost. Every
    /// append and rewrite holds the lock, so a rewrite reads every line
    /// appended before it and none is appended to the old file after it.
    fileprivate func lockCurrentFile() throws {
        for _ in 0..<1000 {
            guard flock(handle.fileDescriptor, LOCK_EX) == 0 else {
                throw FileSystemError(path: path, operation: "lock", code: errno)
            }
            var held = stat(), named = stat()
            if fstat(handle.fileDescriptor, &held) == 0, lstat(path, &named) == 0,
               held.st_dev == named.st_dev && held.st_ino == named.st_ino {
                return
            }
            _ = flock(handle.fileDescriptor, LOCK_UN)
            try handle.close()
            handle = FileHandle(fileDescriptor: try openForAppending(at: path), closeOnDealloc: true)
        }
        throw FileSystemError(path: path, operation: "lock (the file kept being replaced)", code: EAGAIN)
    }
}

/// A JSON object whose keys keep the order they were added in.
public struct JSONRecord: Sendable {
    private var fields: [(String, String)] = []

    public init() {}

    public mutating func add(_ key: String, _ value: String) { fields.append((key, JSONRecord.quote(value))) }
    public mutating func add(_ key: String, _ value: Int) { fields.append((key, String(value))) }
    public mutating func add(_ key: String, _ value: Double) {
        fields.append((key, value.isFinite ? String(value) : "null"))
    }
    public mutating func add(_ key: String, _ value: Float) { add(key, Double(value)) }
    public mutating func add(_ key: String, _ value: Bool) { fields.append((key, value ? "true" : "false")) }

    /// The object on one line.
    public var text: String {
        "{" + fields.map { "\(JSONRecord.quote($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
