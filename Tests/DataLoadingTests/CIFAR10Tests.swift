import DataLoading
import Foundation
import Testing

// CIFAR-10's binary version, on files generated here in its exact format: no
// copy of the real data set is available offline.

/// One record: the label byte, then 3x32x32 pixel bytes (red, green, blue
/// planes). Pixel k of image `image` is (image * 7 + k) mod 256, so every
/// image differs and every value shows where it came from.
func cifarRecord(image: Int, label: UInt8) -> [UInt8] {
    [label] + (0..<3072).map { UInt8(truncatingIfNeeded: image * 7 + $0) }
}

/// A batch file of records for images `images`, labels `image % 10`.
func writeCIFARBatch(_ images: Range<Int>, to path: String, gzip: Bool = false) throws {
    let bytes = images.flatMap { cifarRecord(image: $0, label: UInt8($0 % 10)) }
    try writeFile(bytes, to: path, gzip: gzip)
}

/// The six files of the binary version in `directory`: five training batches
/// of `perBatch` images (numbered on from 0) and a test batch of `test`
/// images (numbered from 1000).
func writeCIFARDirectory(_ directory: String, perBatch: Int = 4, test: Int = 3) throws {
    for batch in 1...5 {
        try writeCIFARBatch((batch - 1) * perBatch..<batch * perBatch, to: directory + "/data_batch_\(batch).bin",
                            gzip: batch == 3)  // one gzipped file: both kinds are read
    }
    try writeCIFARBatch(1000..<(1000 + test), to: directory + "/test_batch.bin")
}

@Suite("CIFAR-10 binary files")
struct CIFAR10Tests {
    @Test("A batch file's labels and pixels come out as written, image by image")
    func readsRecords() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/data_batch_1.bin"
            try writeCIFARBatch(0..<12, to: path)
            let file = try CIFAR10File(contentsOf: path)
            #expect(file.count == 12)
            #expect(file.labels == (0..<12).map { UInt8($0 % 10) })
            #expect(file.pixels.count == 12 * 3072)
            for image in [0, 5, 11] {
                #expect(Array(file.pixels[(image * 3072)..<((image + 1) * 3072)]) == Array(cifarRecord(image: image, label: 0).dropFirst()))
            }
        }
    }

    @Test("The catalog's cifar10: 3x32x32 samples normalised (x - 0.5) / 0.5, labels and class names")
    func catalogLoadsTheSixFiles() throws {
        try withTemporaryDirectory { directory in
            try writeCIFARDirectory(directory)
            let splits = try DatasetCatalog.load(name: "cifar10", dataDirectory: directory)
            #expect(splits.name == "cifar10")
            #expect(splits.train.count == 20)
            #expect(splits.test.count == 3)
            #expect(splits.train.sampleShape == [3, 32, 32])
            #expect(splits.train.classNames == ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])
            // Training images in file order across the five batches.
            #expect(splits.train.labels == (0..<20).map { Int32($0 % 10) })
            #expect(splits.test.labels == [0, 1, 2])
            for (dataset, index, image) in [(splits.train, 0, 0), (splits.train, 13, 13), (splits.test, 2, 1002)] {
                let (input, label) = dataset[index]
                #expect(label == Int32(image % 10))
                let bytes = cifarRecord(image: image, label: 0).dropFirst()
                #expect(input == bytes.map { (Float($0) / 255 - 0.5) / 0.5 })
                // Channel 1 (green) starts at pixel byte 1024.
                #expect(input[1024] == (Float(bytes[bytes.startIndex + 1024]) / 255 - 0.5) / 0.5)
            }
            #expect(splits.train[0].input.allSatisfy { $0 >= -1 && $0 <= 1 })
        }
    }

    @Test("The parent of cifar-10-batches-bin (where the archive unpacks) works too")
    func acceptsTheArchiveParent() throws {
        try withTemporaryDirectory { directory in
            let inner = directory + "/cifar-10-batches-bin"
            try FileManager.default.createDirectory(atPath: inner, withIntermediateDirectories: true)
            try writeCIFARDirectory(inner, perBatch: 1, test: 1)
            let splits = try DatasetCatalog.load(name: "cifar10", dataDirectory: directory)
            #expect(splits.directory == inner)
            #expect(splits.train.count == 5)
        }
    }

    @Test("No directory given: the error says which files to point --data-dir at")
    func needsADirectory() {
        let error = dataError { _ = try DatasetCatalog.load(name: "cifar10") }
        #expect(error?.kind == .missingFiles)
        #expect(error?.description.contains("--data-dir") == true)
        #expect(error?.description.contains("data_batch_1.bin") == true)
        #expect(error?.description.contains("test_batch.bin") == true)
    }

    @Test("A missing file is named, with the directory")
    func missingFile() throws {
        try withTemporaryDirectory { directory in
            try writeCIFARDirectory(directory)
            try FileManager.default.removeItem(atPath: directory + "/data_batch_4.bin")
            let error = dataError { _ = try DatasetCatalog.load(name: "cifar10", dataDirectory: directory) }
            #expect(error?.kind == .missingFiles)
            #expect(error?.path == directory)
            #expect(error?.description.contains("lacks data_batch_4.bin;") == true)
        }
        let error = dataError { _ = try DatasetCatalog.load(name: "cifar10", dataDirectory: "/nonexistent/cifar") }
        #expect(error?.path == "/nonexistent/cifar")
        #expect(error?.description.contains("no such directory") == true)
    }

    @Test("A file cut inside a record is an error naming it, with the byte counts")
    func truncated() throws {
        try withTemporaryDirectory { directory in
            try writeCIFARDirectory(directory)
            let path = directory + "/data_batch_2.bin"
            let bytes = (0..<4).flatMap { cifarRecord(image: $0, label: 1) }
            try writeFile(Array(bytes.dropLast(100)), to: path, gzip: false)
            let error = dataError { _ = try DatasetCatalog.load(name: "cifar10", dataDirectory: directory) }
            #expect(error?.kind == .truncated)
            #expect(error?.path == path)
            #expect(error?.description.contains("\(4 * 3073 - 100) bytes") == true)
            #expect(error?.description.contains("3 records and 2973 bytes of a cut-short one") == true)
        }
    }

    @Test("An empty file is an error naming it")
    func empty() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/test_batch.bin"
            try writeFile([], to: path, gzip: false)
            let error = dataError { _ = try CIFAR10File(contentsOf: path) }
            #expect(error?.kind == .truncated)
            #expect(error?.path == path)
            #expect(error?.description.contains("empty") == true)
        }
    }

    @Test("Garbage of a whole number of records is caught by its labels")
    func garbage() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/data_batch_1.bin"
            var generator = SystemRandomNumberGenerator()
            var bytes = (0..<(3 * 3073)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes[0] = 3
            bytes[3073] = 200  // record 1's label
            try writeFile(bytes, to: path, gzip: false)
            let error = dataError { _ = try CIFAR10File(contentsOf: path) }
            #expect(error?.kind == .labelOutOfRange)
            #expect(error?.path == path)
            #expect(error?.description.contains("record 1") == true)
            #expect(error?.description.contains("label 200") == true)
        }
    }

    @Test("A file that cannot be opened is an error naming it")
    func unreadable() {
        let error = dataError { _ = try CIFAR10File(contentsOf: "/nonexistent/data_batch_1.bin") }
        #expect(error?.kind == .cannotOpen)
        #expect(error?.path == "/nonexistent/data_batch_1.bin")
    }
}
