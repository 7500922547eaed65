import CZlib
import Foundation
import Plotting
import Testing

/// Decodes what `PNGEncoder` writes (8-bit RGB, filter 0) back into pixels.
enum PNGReader {
    struct Chunk {
        var type: String
        var data: [UInt8]
        var crcMatches: Bool
    }

    static func chunks(_ bytes: [UInt8]) -> [Chunk] {
        var chunks: [Chunk] = []
        var i = 8
        while i + 12 <= bytes.count {
            let length = Int(read32(bytes, i))
            let typed = Array(bytes[(i + 4)..<(i + 8 + length)])
            let crc = typed.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
            chunks.append(Chunk(type: String(decoding: typed.prefix(4), as: UTF8.self), data: Array(typed.dropFirst(4)),
                                crcMatches: UInt32(crc) == read32(bytes, i + 8 + length)))
            i += 12 + length
        }
        return chunks
    }

    static func read32(_ bytes: [UInt8], _ i: Int) -> UInt32 {
        UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
    }

    /// Width, height and RGB pixels.
    static func decode(_ bytes: [UInt8]) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let all = chunks(bytes)
        let header = try #require(all.first { $0.type == "IHDR" })
        let (width, height) = (Int(read32(header.data, 0)), Int(read32(header.data, 4)))
        let compressed = all.filter { $0.type == "IDAT" }.flatMap(\.data)
        var length = uLong((width * 3 + 1) * height)
        var raw = [UInt8](repeating: 0, count: Int(length))
        let code = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { uncompress(out.baseAddress, &length, $0.baseAddress, uLong($0.count)) }
        }
        #expect(code == Z_OK)
        #expect(Int(length) == raw.count)
        var pixels: [UInt8] = []
        let stride = width * 3 + 1
        for row in 0..<height {
            let start = row * stride
            #expect(raw[start] == 0, "filter type 0")
            pixels.append(contentsOf: raw[(start + 1)..<(start + stride)])
        }
        return (width, height, pixels)
    }
}

@Suite struct PNGEncoderTests {
    @Test func writesSignatureHeaderAndEnd() throws {
        let bytes = try PNGEncoder.encode(RGBImage(width: 7, height: 3))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let chunks = PNGReader.chunks(bytes)
        #expect(chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
        #expect(chunks.allSatisfy { $0.crcMatches })
        #expect(chunks[0].data == [0, 0, 0, 7, 0, 0, 0, 3, 8, 2, 0, 0, 0])
        #expect(chunks[2].data.isEmpty)
    }

    @Test func pixelsSurviveARoundTrip() throws {
        var image = RGBImage(width: 5, height: 4, background: Color(10, 20, 30))
        image.set(x: 0, y: 0, .black)
        image.set(x: 4, y: 3, Color(200, 100, 50))
        image.fill(x: 1, y: 1, width: 2, height: 2, color: .white)
        let decoded = try PNGReader.decode(try PNGEncoder.encode(image))
        #expect(decoded.width == 5 && decoded.height == 4)
        #expect(decoded.pixels == image.pixels)
        let last = (3 * 5 + 4) * 3
        #expect(Array(decoded.pixels[last..<(last + 3)]) == [200, 100, 50])
    }
}
