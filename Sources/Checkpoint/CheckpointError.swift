/// Why a checkpoint could not be used, naming the file and the object in it.
public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A dataset's values differ from the CRC-32 stored with them: the data
    /// on disk is corrupt.
    case checksumMismatch(file: String, dataset: String, expected: UInt32, actual: UInt32)
    /// The attributes, tensor names or shapes differ from the
    /// `metadata_crc32` stored with them: the file's metadata is corrupt.
    case metadataChecksumMismatch(file: String, expected: UInt32, actual: UInt32)
    /// A required attribute, group or dataset is missing or malformed.
    case invalid(file: String, object: String, reason: String)
    /// The file cannot be read at all: missing, truncated, not HDF5, or an
    /// I/O error. `reason` carries HDF5's own message.
    case unreadable(file: String, reason: String)
    /// Written by a newer version of the format than this code reads.
    case unsupportedVersion(file: String, version: Int, supported: Int)
    /// The state cannot be written as it is (a buffer of the wrong size, a
    /// reserved hyper-parameter name, ...).
    case invalidState(String)
    /// The checkpoint does not fit the run that wants to resume from it;
    /// each difference is one line naming what differs.
    case incompatible(file: String, differences: [String])
    /// The checkpoint directory cannot be used: not writable, or another run holds it.
    case directory(path: String, reason: String)

    /// One line (several for `incompatible`) naming the file and what is wrong.
    public var description: String {
        switch self {
        case let .checksumMismatch(file, dataset, expected, actual):
            "checkpoint '\(file)': dataset '\(dataset)' is corrupt: its crc32 is \(hex(actual)) "
                + "but \(hex(expected)) was stored when it was written"
        case let .metadataChecksumMismatch(file, expected, actual):
            "checkpoint '\(file)': its attributes are corrupt: their crc32 is \(hex(actual)) "
                + "but \(hex(expected)) was stored in metadata_crc32 when it was written"
        case let .invalid(file, object, reason):
            "checkpoint '\(file)': '\(object)': \(reason)"
        case let .unreadable(file, reason):
            "checkpoint '\(file)' cannot be read: \(reason)"
        case let .unsupportedVersion(file, version, supported):
            "checkpoint '\(file)' has format_version \(version); this program reads version \(supported) and older"
        case let .invalidState(reason):
            "cannot write checkpoint: \(reason)"
        case let .directory(path, reason):
            "checkpoint directory '\(path)': \(reason)"
        case let .incompatible(file, differences):
            "checkpoint '\(file)' does not match this run:\n" + differences.map { "  - \($0)" }.joined(separator: "\n")
        }
    }
}

/// A checksum as eight hex digits, "0x0badf00d".
func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
