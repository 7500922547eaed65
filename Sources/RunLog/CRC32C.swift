/// CRC-32C (Castagnoli), the checksum TFRecord files carry, and the masking
/// TensorFlow applies to it.
///
/// TFRecord frames every record with CRC-32C rather than zlib's CRC-32, so
/// zlib (which the project already links) cannot be reused. A byte-wise table
/// is plenty for a few scalars per step.
public enum CRC32C {
    /// The reflected Castagnoli polynomial.
    static let polynomial: UInt32 = 0x82F6_3B78

    /// The 256-entry table for byte-at-a-time updates.
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = (crc & 1) == 1 ? (crc >> 1) ^ polynomial : crc >> 1
        }
        return crc
    }

    /// The CRC-32C of `bytes` (initial value and final xor 0xFFFFFFFF, as
    /// everywhere CRC-32C is used: `checksum("123456789") == 0xE3069283`).
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// `crc` rotated right by 15 bits plus a constant, as TFRecord stores it.
    ///
    /// TensorFlow masks stored CRCs because computing the CRC of data that
    /// itself contains embedded CRCs is problematic; readers must apply the
    /// same mask before comparing.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// The masked CRC-32C of `bytes`: what a TFRecord header or footer holds.
    public static func maskedChecksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        masked(checksum(bytes))
    }
}
