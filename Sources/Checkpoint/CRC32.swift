import CZlib

/// CRC-32 checksums of dataset values, as stored in each dataset's `crc32`
/// attribute.
///
/// The checksum is zlib's CRC-32 (the IEEE polynomial, the same as Python's
/// `zlib.crc32`) of the values' little-endian bytes in row-major order, so a
/// file can be checked from Python without this code:
///
///     zlib.crc32(f["model/0.weight"][()].astype("<f4").tobytes()) == f["model/0.weight"].attrs["crc32"]
public enum CRC32 {
    /// The checksum of `bytes`.
    public static func checksum(bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = crc32(0, nil, 0)
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return UInt32(crc) }
        var remaining = bytes.count
        // zlib takes a 32-bit length, so feed huge buffers in pieces.
        while remaining > 0 {
            let piece = min(remaining, 1 << 30)
            crc = crc32(crc, base, uInt(piece))
            base += piece
            remaining -= piece
        }
        return UInt32(crc)
    }

    /// The checksum of `values` stored as little-endian `float32`.
    public static func checksum(_ values: UnsafeBufferPointer<Float>) -> UInt32 {
        #if _endian(little)
        return checksum(bytes: UnsafeRawBufferPointer(values))
        #else
        let swapped = values.map { $0.bitPattern.littleEndian }
        return swapped.withUnsafeBytes { checksum(bytes: $0) }
        #endif
    }

    /// The checksum of `values` stored as little-endian `float32`.
    public static func checksum(_ values: ArraySlice<Float>) -> UInt32 {
        values.withUnsafeBufferPointer { checksum($0) }
    }
}
