import Checkpoint
import Foundation

/// One JSON object per line, appended to a file (`--metrics`), so runs can be
/// compared and plotted later and a resumed run continues the same file.
public final class MetricsLog {
    private let handle: FileHandle
    public let path: String

    /// Opens `path` for appending, creating it (and its directory) if needed.
    public init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Never through a link planted at the name (`openForAppending(at:mode:)`).
        do {
            handle = FileHandle(fileDescriptor: try openForAppending(at: path), closeOnDealloc: true)
        } catch {
            throw TrainingError.invalidOption("--metrics", "cannot open \(path) for appending: \(error)")
        }
    }

    deinit { try? handle.close() }

    /// Appends `record` as one line.
    public func append(_ record: JSONRecord) {
        handle.write(Data((record.text + "\n").utf8))
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
