/// A file in the IDX format of MNIST and Fashion-MNIST, read whole into memory.
///
/// The format is a 4-byte magic number `0x0000TTNN` (TT = element type,
/// NN = number of dimensions), NN big-endian Int32 sizes, then the elements in
/// row-major order. Only unsigned bytes (TT = 0x08) are supported, as labels
/// (`0x00000801`, 1-D: N) or images (`0x00000803`, 3-D: N x rows x columns),
/// because that is all these data sets use.
///
/// Reading is strict: a wrong magic, a size of zero rows, a file shorter or
/// longer than its header says are all errors, because a silently misread
/// data set trains a model that is quietly wrong. Files may be gzipped or not.
public struct IDXFile: Sendable {
    /// Which of the two supported IDX layouts a file holds.
    public enum Content: Sendable {
        /// `0x00000801`: one unsigned byte per item, 1-D.
        case labels
        /// `0x00000803`: N images of rows x columns unsigned bytes, 3-D.
        case images

        /// The magic number that opens a file of this content.
        public var magic: UInt32 {
            switch self {
            case .labels: 0x0000_0801
            case .images: 0x0000_0803
            }
        }

        var dimensionCount: Int { Int(magic & 0xFF) }

        var name: String {
            switch self {
            case .labels: "labels, uint8, 1-D"
            case .images: "images, uint8, 3-D"
            }
        }
    }

    /// The path the file was read from, kept for error messages further on.
    public let path: String
    public let content: Content
    /// The sizes from the header: `[N]` for labels, `[N, rows, columns]` for images.
    public let dimensions: [Int]
    /// All elements, exactly `dimensions.reduce(1, *)` bytes.
    public let bytes: [UInt8]

    /// Number of items (labels or images): the first dimension.
    public var count: Int { dimensions[0] }

    /// Reads and validates the IDX file at `path` (gzipped or plain).
    /// - Parameter expected: the content the caller needs; a file holding the
    ///   other kind is reported as a bad magic number. Nil accepts either.
    /// - Throws: `DataError` naming `path` and the problem.
    public init(contentsOf path: String, expecting expected: Content? = nil) throws {
        let file = try GzipInputFile(path: path)

        var magicBytes = [UInt8](repeating: 0, count: 4)
        let magicRead = try magicBytes.withUnsafeMutableBytes { try file.read(into: $0) }
        guard magicRead == 4 else {
            throw DataError(.truncated, path: path, "file has \(magicRead) bytes, too short for the 4-byte IDX magic number")
        }
        let magic = Self.bigEndianUInt32(magicBytes, at: 0)
        let content = try Self.content(ofMagic: magic, expected: expected, path: path)

        let headerSize = 4 + 4 * content.dimensionCount
        var sizeBytes = [UInt8](repeating: 0, count: 4 * content.dimensionCount)
        let sizesRead = try sizeBytes.withUnsafeMutableBytes { try file.read(into: $0) }
        guard sizesRead == sizeBytes.count else {
            throw DataError(.truncated, path: path,
                            "file ends inside the \(headerSize)-byte header (\(4 + sizesRead) bytes)")
        }
        var dimensions: [Int] = []
        for d in 0..<content.dimensionCount {
            let size = Int32(bitPattern: Self.bigEndianUInt32(sizeBytes, at: 4 * d))
            guard size >= 0 else {
                throw DataError(.badHeader, path: path, "dimension \(d) is negative (\(size))")
            }
            // An item count of zero is an empty but valid file; zero rows or
            // columns is not an image.
            guard size > 0 || d == 0 else {
                throw DataError(.badHeader, path: path, "dimension \(d) is zero")
            }
            dimensions.append(Int(size))
        }
        // The whole payload is held in memory, so a corrupt header must not
        // be able to ask for an absurd amount of it.
        let limit = 1 << 32
        var expectedBytes = 1
        for size in dimensions {
            let (product, overflow) = expectedBytes.multipliedReportingOverflow(by: size)
            guard !overflow, product <= limit else {
                throw DataError(.badHeader, path: path,
                                "sizes \(dimensions) need more than 4 GiB, beyond what this reader supports")
            }
            expectedBytes = product
        }
        let what = Self.describe(content, dimensions: dimensions, bytes: expectedBytes)

        // Read into the final array in chunks of at most 64 MiB, so memory
        // grows with the data actually there: a 16-byte file whose header
        // claims 4 GiB must not get 4 GiB allocated. The data sets' files
        // (47 MB at most) still take one read and no copy.
        let data = try file.readAll(atMost: expectedBytes, chunk: 1 << 26)
        let dataRead = data.count
        guard dataRead == expectedBytes else {
            let cut = file.compressedStreamWasCutShort ? " (the gzip stream itself is cut short)" : ""
            throw DataError(.truncated, path: path,
                            "header says \(what) but the file has \(dataRead) after the \(headerSize)-byte header\(cut)")
        }
        let extra = try file.countRemainingBytes()
        guard extra == 0 else {
            throw DataError(.trailingBytes, path: path,
                            "header says \(what) but the file has \(expectedBytes + extra) after the \(headerSize)-byte header (\(extra) extra)")
        }

        self.path = path
        self.content = content
        self.dimensions = dimensions
        self.bytes = data
    }

    private static func content(ofMagic magic: UInt32, expected: Content?, path: String) throws -> Content {
        let found = hex(magic)
        let foundContent: Content? = [Content.labels, .images].first { $0.magic == magic }
        if let expected {
            guard foundContent == expected else {
                let hint = foundContent.map { " (\($0.name))" } ?? (magic >> 16 == 0x1F8B ? " (a gzip header: is the file compressed twice?)" : "")
                throw DataError(.badMagic, path: path,
                                "expected \(hex(expected.magic)) (\(expected.name)) but found \(found)\(hint)")
            }
            return expected
        }
        guard let foundContent else {
            throw DataError(.badMagic, path: path,
                            "found \(found); expected 0x00000801 (labels, uint8, 1-D) or 0x00000803 (images, uint8, 3-D)")
        }
        return foundContent
    }

    private static func describe(_ content: Content, dimensions: [Int], bytes: Int) -> String {
        switch content {
        case .labels: "\(dimensions[0]) labels (\(bytes) bytes)"
        case .images: "\(dimensions[0]) images of \(dimensions[1])x\(dimensions[2]) (\(bytes) bytes)"
        }
    }

    /// `0x00000803`: a magic number as IDX documentation writes it.
    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    private static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
