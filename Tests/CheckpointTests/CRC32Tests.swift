import Checkpoint
import Testing

struct CRC32Tests {
    @Test func matchesZlibsCheckValue() {
        // The standard CRC-32 check value, the same as Python's zlib.crc32(b"123456789").
        let text = Array("123456789".utf8)
        #expect(text.withUnsafeBytes { CRC32.checksum(bytes: $0) } == 0xCBF4_3926)
        #expect([UInt8]().withUnsafeBytes { CRC32.checksum(bytes: $0) } == 0)
    }

    @Test func checksumsFloatsAsLittleEndianBytes() {
        let values: [Float] = [1, -2.5, .infinity]
        var bytes: [UInt8] = []
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
        }
        let expected = bytes.withUnsafeBytes { CRC32.checksum(bytes: $0) }
        #expect(values.withUnsafeBufferPointer { CRC32.checksum($0) } == expected)
        #expect(CRC32.checksum(values[...]) == expected)
        #expect(CRC32.checksum(values[1...]) != expected)
    }
}
