import Foundation
import Testing
import RunLog

/// The TFRecord framing, CRC-32C and Event encoding of TensorBoard event files.
struct TensorBoardEventFileTests {
    @Test func crc32cMatchesKnownVectors() {
        // The classic check value, and the test vectors of RFC 3720 (iSCSI), appendix B.4.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0x00, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    @Test func maskRotatesAndAddsTheConstant() {
        #expect(CRC32C.masked(0) == 0xA282_EAD8)
        // 0xE3069283 rotated right by 15 is 0x2507C60D; plus 0xA282EAD8 (mod 2^32) is 0xC78AB0E5.
        #expect(CRC32C.masked(0xE306_9283) == 0xC78A_B0E5)
        #expect(CRC32C.maskedChecksum(Array("123456789".utf8)) == 0xC78A_B0E5)
    }

    @Test func oneRecordIsByteExact() {
        let event = TensorBoardEvent(wallTime: 1.5, step: 7, scalars: [TensorBoardScalar(tag: "loss", value: 0.25)])
        let data: [UInt8] = [
            0x09,                                            // field 1 (wall_time), wire type 1 (fixed64)
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F,  // 1.5 = 0x3FF8000000000000, little endian
            0x10, 0x07,                                      // field 2 (step), wire type 0 (varint): 7
            0x2A, 0x0D,                                      // field 5 (summary), wire type 2, 13 bytes:
            0x0A, 0x0B,                                      //   Summary field 1 (value), wire type 2, 11 bytes:
            0x0A, 0x04, 0x6C, 0x6F, 0x73, 0x73,              //     field 1 (tag), wire type 2, "loss"
            0x15, 0x00, 0x00, 0x80, 0x3E,                    //     field 2 (simple_value), wire type 5: 0.25f = 0x3E800000
        ]
        #expect(event.encoded() == data)
        let record: [UInt8] = [
            0x1A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // length 26, uint64 little endian
            0x12, 0x9B, 0xD8, 0x2D,                          // masked CRC-32C of those 8 bytes
        ] + data + [
            0xC9, 0xD0, 0x7B, 0x8D,                          // masked CRC-32C of the data
        ]
        // The same bytes come out of protobuf's Python serialiser and TensorBoard's own
        // RecordWriter (tensorboard 2.21) for this event; the CRCs are checked here too.
        #expect(TensorBoardEventFile.frame(data) == record)
        #expect(CRC32C.maskedChecksum(record[0..<8]) == 0x2DD8_9B12)
        #expect(CRC32C.maskedChecksum(data) == 0x8D7B_D0C9)
    }

    @Test func zeroValuesAndNegativeStepsAreEncodedAsProtobufDoes() {
        // proto3 leaves a zero step out, but simple_value is a oneof member and is always written;
        // a negative int64 takes ten varint bytes.
        let event = TensorBoardEvent(wallTime: 1.5, step: -1, scalars: [TensorBoardScalar(tag: "z", value: 0)])
        #expect(event.encoded() == [
            0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F,
            0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
            0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x7A, 0x15, 0x00, 0x00, 0x00, 0x00,
        ])
        let header = TensorBoardEvent(wallTime: 1.5, step: 0, fileVersion: "brain.Event:2", writer: "swiftddp")
        #expect(header.encoded() == [0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F,
                                     0x1A, 0x0D] + Array("brain.Event:2".utf8)
                                  + [0x52, 0x0A, 0x0A, 0x08] + Array("swiftddp".utf8))
    }

    @Test func eventsRoundTripThroughAFile() throws {
        let events = [
            TensorBoardEvent(wallTime: 1_796_000_000.25, step: 0, fileVersion: TensorBoardEvent.fileVersion,
                             writer: TensorBoardWriter.writerName),
            TensorBoardEvent(wallTime: 1_796_000_001.5, step: 1, scalars: [
                TensorBoardScalar(tag: "train/loss", value: 2.25),
                TensorBoardScalar(tag: "train/accuracy", value: 0),
                TensorBoardScalar(tag: "lr", value: -Float.infinity),
            ]),
            TensorBoardEvent(wallTime: 0, step: -5, scalars: [TensorBoardScalar(tag: "ünïcode/標籤", value: 1e-30)]),
            TensorBoardEvent(wallTime: 3, step: Int(Int64.max), scalars: [TensorBoardScalar(tag: "", value: 7)]),
        ]
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("events.out.tfevents.1.host.1.0").path
        try Data(events.flatMap { TensorBoardEventFile.frame($0.encoded()) }).write(to: URL(fileURLWithPath: path))
        #expect(try TensorBoardEventFile.read(path) == events)
        let scan = try TensorBoardEventFile.scan(path)
        #expect(scan.damage == nil)
        #expect(scan.records.map(\.offset) == [0] + scan.records.dropLast().map { $0.offset + $0.framed.count })
    }

    @Test func damagedRecordsAreReportedWithFileAndOffset() throws {
        let first = TensorBoardEventFile.frame(TensorBoardEvent(wallTime: 1, step: 1, scalars: [TensorBoardScalar(tag: "a", value: 1)]).encoded())
        let second = TensorBoardEventFile.frame(TensorBoardEvent(wallTime: 2, step: 2, scalars: [TensorBoardScalar(tag: "a", value: 2)]).encoded())
        let directory = try TestSupport.temporaryDirectory()
        let path = directory.appendingPathComponent("events.out.tfevents.1.host.1.0").path

        var badData = first + second
        badData[first.count + 14] ^= 0x01
        try Data(badData).write(to: URL(fileURLWithPath: path))
        #expect(throws: TensorBoardError.dataChecksumMismatch(path: path, offset: first.count)) {
            try TensorBoardEventFile.read(path)
        }
        let scan = try TensorBoardEventFile.scan(path)
        #expect(scan.events.map(\.step) == [1])
        #expect(scan.damage?.description.contains(path) == true)
        #expect(scan.damage?.description.contains("byte \(first.count)") == true)

        var badLength = first + second
        badLength[first.count + 1] = 0x7F
        try Data(badLength).write(to: URL(fileURLWithPath: path))
        #expect(throws: TensorBoardError.lengthChecksumMismatch(path: path, offset: first.count)) {
            try TensorBoardEventFile.read(path)
        }

        // Intact framing around data that is not an Event (field 1 with the wrong wire type).
        try Data(first + TensorBoardEventFile.frame([0x08, 0x01])).write(to: URL(fileURLWithPath: path))
        let malformed = #expect(throws: TensorBoardError.self) {
            try TensorBoardEventFile.read(path)
        }
        guard case let .malformedEvent(errorPath, offset, _) = malformed else {
            Issue.record("expected malformedEvent, got \(String(describing: malformed))")
            return
        }
        #expect(errorPath == path && offset == first.count)

        #expect(throws: TensorBoardError.self) {
            try TensorBoardEventFile.read(directory.appendingPathComponent("missing").path)
        }
    }

    @Test func aTruncatedLastRecordIsLeftOutWithoutAnError() throws {
        let records = (1...3).map {
            TensorBoardEventFile.frame(TensorBoardEvent(wallTime: 1, step: $0, scalars: [TensorBoardScalar(tag: "a", value: 1)]).encoded())
        }
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("events.out.tfevents.1.host.1.0").path
        let whole = records.flatMap { $0 }
        let thirdStart = records[0].count + records[1].count
        // Cut inside the header, inside the data, and just before the footer's last byte.
        for cut in [thirdStart + 5, thirdStart + 12, whole.count - 1] {
            try Data(whole[..<cut]).write(to: URL(fileURLWithPath: path))
            #expect(try TensorBoardEventFile.read(path).map(\.step) == [1, 2])
            #expect(try TensorBoardEventFile.scan(path).damage == .truncatedRecord(path: path, offset: thirdStart))
        }
    }
}
