/// Everything that can go wrong while reading, naming or sampling a data set.
///
/// A failed training launch is usually read in a log on another machine, so
/// the message must stand on its own: it names the file (or directory) and
/// says what was found against what was expected, e.g.
/// `…/t10k-images-idx3-ubyte.gz: truncated: header says 10000 images of 28x28
/// (7840000 bytes) but the file has 1234 after the 16-byte header`.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The class of problem, so callers and tests can branch on it without
    /// parsing the message.
    public enum Kind: String, Sendable {
        case cannotOpen = "cannot open"
        case readFailed = "read failed"
        case badMagic = "bad magic"
        case badHeader = "bad header"
        case truncated = "truncated"
        case trailingBytes = "trailing bytes"
        case countMismatch = "count mismatch"
        case labelOutOfRange = "label out of range"
        case unknownDataset = "unknown data set"
        case missingFiles = "missing files"
        case invalidConfiguration = "invalid configuration"
        /// A NaN or infinity among the values read (a file that changed
        /// after the run checked it at start).
        case nonFiniteValue = "value not finite"
    }

    public let kind: Kind
    /// The file or directory concerned; nil for problems that are not about a
    /// path (a sampler configuration, an unknown data set name).
    public let path: String?
    /// What was expected and what was found.
    public let detail: String

    public init(_ kind: Kind, path: String? = nil, _ detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    public var description: String {
        let prefix = path.map { "\($0): " } ?? ""
        return "\(prefix)\(kind.rawValue): \(detail)"
    }
}
