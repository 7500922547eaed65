import Foundation
import SafeFiles

/// The on-disk format of a TensorBoard event file, and its reader.
///
/// An event file is a TFRecord file: a sequence of records, each
///
///     uint64  length                         little endian
///     uint32  masked CRC-32C of the 8 length bytes
///     byte    data[length]                   one serialised Event message
///     uint32  masked CRC-32C of data
///
/// (see `CRC32C.masked`). The first record holds only `file_version`
/// (`"brain.Event:2"`); every other record of ours holds one step's scalars.
/// Files are named `events.out.tfevents.<unix seconds>.<hostname>.<pid>.<n>`,
/// as TensorFlow names them; TensorBoard picks up any file whose name
/// contains `tfevents` and reads a directory's files in name order.
public enum TensorBoardEventFile {
    /// The prefix every event file name starts with.
    public static let namePrefix = "events.out.tfevents."

    /// The bytes a record adds around its data: the header and the footer.
    static let headerSize = 12
    static let footerSize = 4

    /// One intact record: its decoded event and where its framed bytes lie.
    public struct Record: Sendable {
        public var event: TensorBoardEvent
        /// The record's first byte in the file.
        public var offset: Int
        /// The whole framed record (header, data and footer), to copy verbatim.
        public var framed: ArraySlice<UInt8>
    }

    /// A file's intact records, and what stopped the reading early, if anything.
    public struct Scan: Sendable {
        public var path: String
        /// Every record before the first damaged one, in file order.
        public var records: [Record]
        /// Why reading stopped before the end of the file; nil if the whole file is intact.
        public var damage: TensorBoardError?

        public var events: [TensorBoardEvent] { records.map(\.event) }
    }

    /// `data` framed as one TFRecord record.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        var record: [UInt8] = []
        record.reserveCapacity(headerSize + data.count + footerSize)
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        record += length
        withUnsafeBytes(of: CRC32C.maskedChecksum(length).littleEndian) { record += $0 }
        record += data
        withUnsafeBytes(of: CRC32C.maskedChecksum(data).littleEndian) { record += $0 }
        return record
    }

    /// The events of the file at `path`, checking both CRCs of every record.
    ///
    /// A last record cut short is left out without an error: that is what a
    /// writer killed mid-write leaves, and TensorBoard reads such a file the
    /// same way. Any other damage (a checksum that does not match, a record
    /// that is not an Event) throws, naming the file and the record's offset.
    public static func read(_ path: String) throws(TensorBoardError) -> [TensorBoardEvent] {
        let scan = try self.scan(path)
        if let damage = scan.damage {
            guard case .truncatedRecord = damage else { throw damage }
        }
        return scan.events
    }

    /// The events of every event file in `directory`, file after file in the
    /// order TensorBoard reads them (see `read(_:)` for what is tolerated).
    public static func readDirectory(_ directory: String) throws(TensorBoardError) -> [TensorBoardEvent] {
        var events: [TensorBoardEvent] = []
        for path in try files(in: directory) {
            events += try read(path)
        }
        return events
    }

    /// The records of `path` up to the first damaged one; throws only if the
    /// file cannot be read at all. The resume logic keeps what this returns.
    public static func scan(_ path: String) throws(TensorBoardError) -> Scan {
        // Never opened: a FIFO would block until a writer came, a directory
        // gives Foundation's "permission" error.
        if let kind = specialFileKind(path) {
            throw .cannotRead(path: path, reason: "it is a \(kind), not an event file; move it out of the directory")
        }
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .cannotRead(path: path, reason: fileSystemReason(error))
        }
        var scan = Scan(path: path, records: [], damage: nil)
        var offset = 0
        while offset < bytes.count {
            let remaining = bytes.count - offset
            guard remaining >= headerSize else {
                scan.damage = .truncatedRecord(path: path, offset: offset)
                break
            }
            let lengthBytes = bytes[offset..<offset + 8]
            guard CRC32C.maskedChecksum(lengthBytes) == uint32(bytes, at: offset + 8) else {
                scan.damage = .lengthChecksumMismatch(path: path, offset: offset)
                break
            }
            let length = uint64(bytes, at: offset)
            guard remaining >= headerSize + footerSize, length <= UInt64(remaining - headerSize - footerSize) else {
                scan.damage = .truncatedRecord(path: path, offset: offset)
                break
            }
            let dataStart = offset + headerSize
            let dataEnd = dataStart + Int(length)
            let data = bytes[dataStart..<dataEnd]
            guard CRC32C.maskedChecksum(data) == uint32(bytes, at: dataEnd) else {
                scan.damage = .dataChecksumMismatch(path: path, offset: offset)
                break
            }
            let event: TensorBoardEvent
            do {
                event = try TensorBoardEvent(decoding: data)
            } catch {
                scan.damage = .malformedEvent(path: path, offset: offset,
                                              reason: "\(error.reason) (at byte \(error.offset) of the record's data)")
                break
            }
            let end = dataEnd + footerSize
            scan.records.append(Record(event: event, offset: offset, framed: bytes[offset..<end]))
            offset = end
        }
        return scan
    }

    /// The paths of the event files in `directory`, in name order (the order
    /// TensorBoard reads them in). Files being rewritten are not listed: their
    /// temporary names do not contain `tfevents`.
    public static func files(in directory: String) throws(TensorBoardError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .cannotListDirectory(path: directory, reason: fileSystemReason(error))
        }
        return names.filter { $0.hasPrefix(namePrefix) }.sorted()
            .map { URL(fileURLWithPath: directory).appendingPathComponent($0).path }
    }

    /// `events.out.tfevents.<seconds>.<hostname>.<pid>.<n>`.
    static func name(seconds: Int, hostname: String, pid: Int32, index: Int) -> String {
        "\(namePrefix)\(seconds).\(hostname).\(pid).\(index)"
    }

    /// The `<unix seconds>` part of an event file name, if it has one.
    static func seconds(inName name: String) -> Int? {
        guard name.hasPrefix(namePrefix) else { return nil }
        return Int(name.dropFirst(namePrefix.count).prefix { $0 != "." })
    }

    private static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }

    private static func uint64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
    }
}
