import CZlib
import Foundation

/// Errors writing a PNG.
public enum PNGError: Error, CustomStringConvertible {
    case compression(code: Int32)

    public var description: String {
        switch self {
        case .compression(let code): "zlib compress2 failed with code \(code)"
        }
    }
}

/// Encodes an `RGBImage` as a PNG file: the signature, IHDR (8-bit RGB),
/// one IDAT holding the zlib stream (zlib's `compress2`) of the scanlines
/// (filter type 0 each), and IEND; chunk CRCs come from zlib's `crc32`.
public enum PNGEncoder {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The PNG file's bytes.
    public static func encode(_ image: RGBImage) throws -> [UInt8] {
        var header: [UInt8] = []
        append32(UInt32(image.width), to: &header)
        append32(UInt32(image.height), to: &header)
        header += [8, 2, 0, 0, 0]  // bit depth 8, colour type 2 (RGB), deflate, filter 0, no interlace
        var bytes = signature
        appendChunk("IHDR", header, to: &bytes)
        appendChunk("IDAT", try compress(scanlines(image)), to: &bytes)
        appendChunk("IEND", [], to: &bytes)
        return bytes
    }

    /// Each row prefixed by its filter byte (0: none).
    static func scanlines(_ image: RGBImage) -> [UInt8] {
        let stride = image.width * 3
        var raw = [UInt8]()
        raw.reserveCapacity((stride + 1) * image.height)
        image.pixels.withUnsafeBufferPointer { pixels in
            for row in 0..<image.height {
                raw.append(0)
                raw.append(contentsOf: pixels[(row * stride)..<((row + 1) * stride)])
            }
        }
        return raw
    }

    static func compress(_ raw: [UInt8]) throws -> [UInt8] {
        var length = compressBound(uLong(raw.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let code = out.withUnsafeMutableBufferPointer { out in
            raw.withUnsafeBufferPointer { raw in
                compress2(out.baseAddress, &length, raw.baseAddress, uLong(raw.count), 9)
            }
        }
        guard code == Z_OK else { throw PNGError.compression(code: code) }
        return Array(out[0..<Int(length)])
    }

    static func appendChunk(_ type: String, _ data: [UInt8], to bytes: inout [UInt8]) {
        append32(UInt32(data.count), to: &bytes)
        let typed = Array(type.utf8) + data
        bytes += typed
        let crc = typed.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        append32(UInt32(crc), to: &bytes)
    }

    static func append32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
