/// One named scalar of an event: a point on the TensorBoard chart `tag`.
public struct TensorBoardScalar: Equatable, Sendable {
    public var tag: String
    /// Stored as a 32-bit float: `Summary.Value.simple_value` is a `float`.
    public var value: Float

    public init(tag: String, value: Float) {
        self.tag = tag
        self.value = value
    }
}

/// The part of TensorFlow's `Event` message this project writes and reads.
///
/// The field numbers are those of `tensorflow/core/util/event.proto` and
/// `tensorflow/core/framework/summary.proto` (mirrored by TensorBoard in
/// `tensorboard/compat/proto`):
///
///     message Event {
///       double wall_time = 1;            // fixed64
///       int64 step = 2;                  // varint
///       oneof what {
///         string file_version = 3;       // "brain.Event:2" in a file's first record
///         Summary summary = 5;
///       }
///       SourceMetadata source_metadata = 10;
///     }
///     message SourceMetadata { string writer = 1; }
///     message Summary { repeated Value value = 1; }
///     message Summary.Value {
///       string tag = 1;
///       oneof value { float simple_value = 2; ... }   // fixed32
///     }
///
/// Encoding follows proto3: `wall_time` and `step` are left out when zero;
/// `simple_value` is a oneof member, so it is written even when zero
/// (otherwise TensorBoard would see a value that is not a scalar). Decoding
/// skips fields it does not know, and summary values that are not scalars.
public struct TensorBoardEvent: Equatable, Sendable {
    /// The version string TensorBoard expects in the first record of a file.
    public static let fileVersion = "brain.Event:2"

    /// Seconds since 1970.
    public var wallTime: Double
    public var step: Int
    /// Set only in a file's first record.
    public var fileVersion: String?
    /// The program that wrote the file (`SourceMetadata.writer`), set in the
    /// first record; the resume logic only rewrites files it wrote itself.
    public var writer: String?
    public var scalars: [TensorBoardScalar]

    public init(wallTime: Double, step: Int, fileVersion: String? = nil, writer: String? = nil,
                scalars: [TensorBoardScalar] = []) {
        self.wallTime = wallTime
        self.step = step
        self.fileVersion = fileVersion
        self.writer = writer
        self.scalars = scalars
    }

    /// The serialised `Event` message (without TFRecord framing).
    public func encoded() -> [UInt8] {
        var event = ProtobufWriter()
        if wallTime.bitPattern != 0 { event.double(1, wallTime) }
        if step != 0 { event.int64(2, Int64(step)) }
        if let fileVersion { event.string(3, fileVersion) }
        if !scalars.isEmpty {
            var summary = ProtobufWriter()
            for scalar in scalars {
                var value = ProtobufWriter()
                value.string(1, scalar.tag)
                value.float(2, scalar.value)
                summary.message(1, value.bytes)
            }
            event.message(5, summary.bytes)
        }
        if let writer {
            var metadata = ProtobufWriter()
            metadata.string(1, writer)
            event.message(10, metadata.bytes)
        }
        return event.bytes
    }

    /// Decodes a serialised `Event` message.
    init(decoding bytes: ArraySlice<UInt8>) throws(ProtobufDecodingError) {
        self.init(wallTime: 0, step: 0)
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case let (1, .fixed64(bits)):
                wallTime = Double(bitPattern: bits)
            case let (2, .varint(bits)):
                step = Int(truncatingIfNeeded: Int64(bitPattern: bits))
            case let (3, .lengthDelimited(text)):
                fileVersion = try Self.string(text, field: "file_version")
            case let (5, .lengthDelimited(summary)):
                scalars += try Self.scalars(inSummary: summary)
            case let (10, .lengthDelimited(metadata)):
                writer = try Self.writer(inSourceMetadata: metadata)
            case (1, _), (2, _), (3, _), (5, _), (10, _):
                throw ProtobufDecodingError(offset: reader.offset, reason: "Event field \(field) has the wrong wire type")
            default:
                continue
            }
        }
    }

    private static func scalars(inSummary bytes: ArraySlice<UInt8>) throws(ProtobufDecodingError) -> [TensorBoardScalar] {
        var scalars: [TensorBoardScalar] = []
        var summary = ProtobufReader(bytes)
        while let (field, value) = try summary.next() {
            guard field == 1, case let .lengthDelimited(valueBytes) = value else { continue }
            var tag: String?
            var simpleValue: Float?
            var reader = ProtobufReader(valueBytes)
            while let (valueField, valueValue) = try reader.next() {
                switch (valueField, valueValue) {
                case let (1, .lengthDelimited(text)):
                    tag = try string(text, field: "Summary.Value.tag")
                case let (2, .fixed32(bits)):
                    simpleValue = Float(bitPattern: bits)
                default:
                    continue
                }
            }
            if let tag, let simpleValue {
                scalars.append(TensorBoardScalar(tag: tag, value: simpleValue))
            }
        }
        return scalars
    }

    private static func writer(inSourceMetadata bytes: ArraySlice<UInt8>) throws(ProtobufDecodingError) -> String? {
        var writer: String?
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            if field == 1, case let .lengthDelimited(text) = value {
                writer = try string(text, field: "SourceMetadata.writer")
            }
        }
        return writer
    }

    private static func string(_ bytes: ArraySlice<UInt8>, field: String) throws(ProtobufDecodingError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ProtobufDecodingError(offset: 0, reason: "\(field) is not valid UTF-8")
        }
        return text
    }
}
