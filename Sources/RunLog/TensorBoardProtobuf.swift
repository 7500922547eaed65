/// The few pieces of the protocol-buffer wire format that TensorBoard's Event
/// message needs, written by hand so the project takes no protobuf dependency.
///
/// A message is a sequence of fields, each a key `(field number << 3) | wire
/// type` (a varint) followed by the value: wire type 0 a varint, 1 eight
/// little-endian bytes, 2 a varint length then that many bytes (strings and
/// nested messages), 5 four little-endian bytes.
enum ProtobufWireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

/// Appends protobuf fields to a byte buffer.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func key(_ field: Int, _ type: ProtobufWireType) {
        varint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    /// An `int64` field: negative values take ten bytes, as protobuf specifies.
    mutating func int64(_ field: Int, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, .fixed64)
        littleEndian(value.bitPattern)
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        littleEndian(value.bitPattern)
    }

    mutating func string(_ field: Int, _ value: String) {
        message(field, Array(value.utf8))
    }

    /// A length-delimited field: a nested message or raw bytes.
    mutating func message(_ field: Int, _ encoded: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(encoded.count))
        bytes += encoded
    }

    private mutating func littleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}

/// A decoding failure, with the offset inside the message where it happened.
struct ProtobufDecodingError: Error {
    var offset: Int
    var reason: String
}

/// Reads protobuf fields from a byte buffer, one at a time.
struct ProtobufReader {
    /// One decoded field. Unknown fields are decoded too, so callers can skip them.
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case lengthDelimited(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    private let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var isAtEnd: Bool { position >= bytes.endIndex }

    /// The offset of `position` from the start of the message.
    var offset: Int { position - bytes.startIndex }

    /// The next field's number and value, or nil at the end of the message.
    mutating func next() throws(ProtobufDecodingError) -> (field: Int, value: Value)? {
        guard !isAtEnd else { return nil }
        let keyOffset = offset
        let key = try varint()
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0, key >> 3 <= 0x1FFF_FFFF else {
            throw ProtobufDecodingError(offset: keyOffset, reason: "field number \(key >> 3) is out of range")
        }
        switch key & 7 {
        case 0:
            return (field, .varint(try varint()))
        case 1:
            return (field, .fixed64(try littleEndian(UInt64.self)))
        case 2:
            let lengthOffset = offset
            let length = try varint()
            guard length <= UInt64(bytes.endIndex - position) else {
                throw ProtobufDecodingError(offset: lengthOffset, reason: "field \(field) claims \(length) bytes but only \(bytes.endIndex - position) remain")
            }
            let start = position
            position += Int(length)
            return (field, .lengthDelimited(bytes[start..<position]))
        case 5:
            return (field, .fixed32(try littleEndian(UInt32.self)))
        default:
            throw ProtobufDecodingError(offset: keyOffset, reason: "field \(field) has unsupported wire type \(key & 7)")
        }
    }

    private mutating func varint() throws(ProtobufDecodingError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard !isAtEnd else {
                throw ProtobufDecodingError(offset: start, reason: "the message ends inside a varint")
            }
            let byte = bytes[position]
            position += 1
            guard shift < 64, shift < 63 || byte <= 1 else {
                throw ProtobufDecodingError(offset: start, reason: "a varint is longer than 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private mutating func littleEndian<T: FixedWidthInteger>(_: T.Type) throws(ProtobufDecodingError) -> T {
        let size = MemoryLayout<T>.size
        guard bytes.endIndex - position >= size else {
            throw ProtobufDecodingError(offset: offset, reason: "the message ends inside a \(size * 8)-bit field")
        }
        var value: T = 0
        for index in 0..<size {
            value |= T(bytes[position + index]) << (8 * index)
        }
        position += size
        return value
    }
}
