/// What can go wrong writing or reading TensorBoard event files; every
/// message names the directory or file, and for damaged files the byte offset
/// of the record concerned.
public enum TensorBoardError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The `--tensorboard` directory is missing and could not be created (or is a file).
    case cannotCreateDirectory(path: String, reason: String)
    /// The directory exists but another user owns it or can write to it
    /// (`reason` says which), so it is refused rather than written to.
    case foreignDirectory(path: String, reason: String)
    /// The directory could not be listed.
    case cannotListDirectory(path: String, reason: String)
    /// An event file could not be created, written, flushed or renamed.
    case cannotWrite(path: String, reason: String)
    /// An event file could not be opened or read.
    case cannotRead(path: String, reason: String)
    /// The file ends inside the record starting at `offset` (a writer killed mid-write).
    case truncatedRecord(path: String, offset: Int)
    /// The masked CRC-32C of the length field of the record at `offset` does not match.
    case lengthChecksumMismatch(path: String, offset: Int)
    /// The masked CRC-32C of the data of the record at `offset` does not match.
    case dataChecksumMismatch(path: String, offset: Int)
    /// The record at `offset` passed its checksums but is not a valid Event message.
    case malformedEvent(path: String, offset: Int, reason: String)
    /// `addScalar` or `flush` was called after `close()`.
    case writerClosed(path: String)

    public var description: String {
        switch self {
        case let .cannotCreateDirectory(path, reason):
            "--tensorboard: cannot create the directory \(path): \(reason)"
        case let .foreignDirectory(path, reason):
            "--tensorboard: refusing the directory \(path): \(reason)"
        case let .cannotListDirectory(path, reason):
            "--tensorboard: cannot list the directory \(path): \(reason)"
        case let .cannotWrite(path, reason):
            "cannot write the TensorBoard event file \(path): \(reason)"
        case let .cannotRead(path, reason):
            "--tensorboard: cannot read the event file \(path): \(reason)"
        case let .truncatedRecord(path, offset):
            "\(path): the record at byte \(offset) is cut short (the writer was probably killed while writing it)"
        case let .lengthChecksumMismatch(path, offset):
            "\(path): the length of the record at byte \(offset) fails its CRC-32C check (the file is damaged)"
        case let .dataChecksumMismatch(path, offset):
            "\(path): the data of the record at byte \(offset) fails its CRC-32C check (the file is damaged)"
        case let .malformedEvent(path, offset, reason):
            "\(path): the record at byte \(offset) is not a TensorBoard Event: \(reason)"
        case let .writerClosed(path):
            "the TensorBoard writer for \(path) is already closed"
        }
    }
}
