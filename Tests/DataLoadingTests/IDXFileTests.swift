import DataLoading
import Foundation
import Testing

@Suite struct IDXFileTests {
    @Test func readsRealFashionMNISTTestFiles() throws {
        let labels = try IDXFile(contentsOf: fashionMNISTDirectory + "/t10k-labels-idx1-ubyte.gz", expecting: .labels)
        #expect(labels.content == .labels)
        #expect(labels.dimensions == [10_000])
        #expect(labels.bytes.count == 10_000)
        #expect(labels.bytes[0] == 9)  // Ankle boot
        #expect(labels.bytes.allSatisfy { $0 < 10 })

        let images = try IDXFile(contentsOf: fashionMNISTDirectory + "/t10k-images-idx3-ubyte.gz")
        #expect(images.content == .images)
        #expect(images.dimensions == [10_000, 28, 28])
        #expect(images.count == 10_000)
        #expect(images.bytes.count == 10_000 * 28 * 28)
        #expect(images.bytes.min() == 0)
        #expect(images.bytes.max() == 255)
    }

    @Test(arguments: [false, true])
    func readsPlainAndGzippedFilesAlike(gzip: Bool) throws {
        try withTemporaryDirectory { directory in
            let labelsPath = directory + "/labels"
            let imagesPath = directory + "/images"
            try writeLabels([3, 1, 4, 1, 5], to: labelsPath, gzip: gzip)
            try writeImages(count: 5, rows: 3, columns: 2, to: imagesPath, gzip: gzip)

            let labels = try IDXFile(contentsOf: labelsPath, expecting: .labels)
            #expect(labels.dimensions == [5])
            #expect(labels.bytes == [3, 1, 4, 1, 5])
            let images = try IDXFile(contentsOf: imagesPath, expecting: .images)
            #expect(images.dimensions == [5, 3, 2])
            #expect(images.bytes == (0..<30).map { UInt8($0) })
        }
    }

    @Test func readsAnEmptyFile() throws {
        try withTemporaryDirectory { directory in
            try writeLabels([], to: directory + "/labels", gzip: false)
            let labels = try IDXFile(contentsOf: directory + "/labels")
            #expect(labels.count == 0)
            #expect(labels.bytes.isEmpty)
        }
    }

    @Test(arguments: [false, true])
    func truncatedImagesNameTheFileAndTheSizes(gzip: Bool) throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/t10k-images-idx3-ubyte" + (gzip ? ".gz" : "")
            try writeImages(count: 10_000, rows: 28, columns: 28, to: path, gzip: gzip, pixelBytes: 1234)
            let error = dataError { _ = try IDXFile(contentsOf: path, expecting: .images) }
            #expect(error?.kind == .truncated)
            #expect(error?.path == path)
            let message = error?.description ?? ""
            #expect(message.hasPrefix(path + ": truncated: "))
            #expect(message.contains("header says 10000 images of 28x28 (7840000 bytes) but the file has 1234"))
        }
    }

    @Test(arguments: [false, true])
    func truncatedLabelsAndHeaders(gzip: Bool) throws {
        try withTemporaryDirectory { directory in
            let labelsPath = directory + "/labels"
            try writeFile(idxHeader(magic: 0x0000_0801, sizes: [100]) + [1, 2, 3], to: labelsPath, gzip: gzip)
            let labelsError = dataError { _ = try IDXFile(contentsOf: labelsPath) }
            #expect(labelsError?.kind == .truncated)
            #expect(labelsError?.description.contains("header says 100 labels (100 bytes) but the file has 3") == true)

            let headerPath = directory + "/header"
            try writeFile(idxHeader(magic: 0x0000_0803, sizes: [10, 28]), to: headerPath, gzip: gzip)
            let headerError = dataError { _ = try IDXFile(contentsOf: headerPath) }
            #expect(headerError?.kind == .truncated)
            #expect(headerError?.description.contains("16-byte header") == true)

            let emptyPath = directory + "/empty"
            try writeFile([0, 0], to: emptyPath, gzip: gzip)
            #expect(dataError { _ = try IDXFile(contentsOf: emptyPath) }?.kind == .truncated)
        }
    }

    @Test func gzipStreamCutShortIsTruncated() throws {
        try withTemporaryDirectory { directory in
            let whole = directory + "/whole.gz"
            let labels = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
            try writeLabels(labels, to: whole, gzip: true)
            let compressed = try Data(contentsOf: URL(fileURLWithPath: whole))
            let cut = directory + "/cut.gz"
            try compressed.prefix(compressed.count / 2).write(to: URL(fileURLWithPath: cut))

            let error = dataError { _ = try IDXFile(contentsOf: cut) }
            #expect(error?.kind == .truncated)
            #expect(error?.path == cut)
            #expect(error?.description.contains("header says 50000 labels") == true)
            #expect(error?.description.contains("gzip stream itself is cut short") == true)
        }
    }

    @Test(arguments: [false, true])
    func trailingBytesAreAnError(gzip: Bool) throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/labels"
            try writeLabels([1, 2, 3], to: path, gzip: gzip, extra: [9, 9, 9, 9, 9])
            let error = dataError { _ = try IDXFile(contentsOf: path) }
            #expect(error?.kind == .trailingBytes)
            #expect(error?.path == path)
            #expect(error?.description.contains("header says 3 labels (3 bytes) but the file has 8") == true)
            #expect(error?.description.contains("5 extra") == true)
        }
    }

    @Test(arguments: [false, true])
    func wrongMagicIsReported(gzip: Bool) throws {
        try withTemporaryDirectory { directory in
            let labelsPath = directory + "/train-labels-idx1-ubyte"
            try writeLabels([1, 2], to: labelsPath, gzip: gzip)
            let swapped = dataError { _ = try IDXFile(contentsOf: labelsPath, expecting: .images) }
            #expect(swapped?.kind == .badMagic)
            #expect(swapped?.path == labelsPath)
            #expect(swapped?.description.contains("expected 0x00000803 (images, uint8, 3-D) but found 0x00000801") == true)

            let junkPath = directory + "/junk"
            try writeFile([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0], to: junkPath, gzip: gzip)
            let junk = dataError { _ = try IDXFile(contentsOf: junkPath) }
            #expect(junk?.kind == .badMagic)
            #expect(junk?.description.contains("0x12345678") == true)

            // Element type 0x0D (float) is valid IDX but not supported here.
            let floatPath = directory + "/floats"
            try writeFile(idxHeader(magic: 0x0000_0D01, sizes: [1]) + [0, 0, 0, 0], to: floatPath, gzip: gzip)
            #expect(dataError { _ = try IDXFile(contentsOf: floatPath) }?.kind == .badMagic)
        }
    }

    @Test func doublyCompressedFileGetsAHint() throws {
        try withTemporaryDirectory { directory in
            let once = directory + "/once.gz"
            try writeLabels([1, 2, 3], to: once, gzip: true)
            let twice = directory + "/twice.gz"
            try writeFile([UInt8](try Data(contentsOf: URL(fileURLWithPath: once))), to: twice, gzip: true)
            let error = dataError { _ = try IDXFile(contentsOf: twice, expecting: .labels) }
            #expect(error?.kind == .badMagic)
            #expect(error?.description.contains("compressed twice") == true)
        }
    }

    @Test func badDimensionsAreReported() throws {
        try withTemporaryDirectory { directory in
            let zeroRows = directory + "/zero-rows"
            try writeFile(idxHeader(magic: 0x0000_0803, sizes: [5, 0, 28]), to: zeroRows, gzip: false)
            let zeroError = dataError { _ = try IDXFile(contentsOf: zeroRows) }
            #expect(zeroError?.kind == .badHeader)
            #expect(zeroError?.description.contains("dimension 1 is zero") == true)

            let negative = directory + "/negative"
            try writeFile(idxHeader(magic: 0x0000_0801, sizes: [-3]), to: negative, gzip: false)
            #expect(dataError { _ = try IDXFile(contentsOf: negative) }?.kind == .badHeader)

            let huge = directory + "/huge"
            try writeFile(idxHeader(magic: 0x0000_0803, sizes: [Int(Int32.max), Int(Int32.max), 2]), to: huge, gzip: false)
            #expect(dataError { _ = try IDXFile(contentsOf: huge) }?.kind == .badHeader)
        }
    }

    /// Found by fuzzing (issue 12): the payload was allocated as large as
    /// the header said before anything was read, so a 16-byte file cost 4 GiB.
    @Test func headerClaimingGigabytesIsTruncated() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/claims-4GiB"
            try writeFile(idxHeader(magic: 0x0000_0803, sizes: [1 << 24, 16, 16]) + [1, 2, 3], to: path, gzip: false)
            let error = dataError { _ = try IDXFile(contentsOf: path) }
            #expect(error?.kind == .truncated)
            #expect(error?.description.contains("(4294967296 bytes) but the file has 3 after the 16-byte header") == true)
        }
    }

    @Test func missingFileIsCannotOpen() {
        let path = "/nonexistent/t10k-labels-idx1-ubyte.gz"
        let error = dataError { _ = try IDXFile(contentsOf: path) }
        #expect(error?.kind == .cannotOpen)
        #expect(error?.description.hasPrefix(path + ": cannot open: ") == true)
    }

    @Test(arguments: [false, true])
    func imageAndLabelCountsMustAgree(gzip: Bool) throws {
        try withTemporaryDirectory { directory in
            let imagesPath = directory + "/images"
            let labelsPath = directory + "/labels"
            try writeImages(count: 4, rows: 2, columns: 2, to: imagesPath, gzip: gzip)
            try writeLabels([0, 1, 2], to: labelsPath, gzip: gzip)
            let error = dataError { _ = try ImageDataset(idxImages: imagesPath, idxLabels: labelsPath) }
            #expect(error?.kind == .countMismatch)
            #expect(error?.path == imagesPath)
            #expect(error?.description.contains("4 images but \(labelsPath) has 3 labels") == true)
        }
    }

    @Test func labelsMustIndexTheClassNames() throws {
        try withTemporaryDirectory { directory in
            let imagesPath = directory + "/images"
            let labelsPath = directory + "/labels"
            try writeImages(count: 3, rows: 2, columns: 2, to: imagesPath, gzip: false)
            try writeLabels([0, 1, 2], to: labelsPath, gzip: false)
            let error = dataError {
                _ = try ImageDataset(idxImages: imagesPath, idxLabels: labelsPath, classNames: ["a", "b"])
            }
            #expect(error?.kind == .labelOutOfRange)
            #expect(error?.path == labelsPath)
            #expect(error?.description.contains("label 2 at index 2") == true)
        }
    }
}
