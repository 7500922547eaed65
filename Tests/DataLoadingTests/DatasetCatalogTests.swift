import DataLoading
import Foundation
import Testing

@Suite struct DatasetCatalogTests {
    @Test func knowsItsNames() throws {
        #expect(DatasetCatalog.names == ["fashion-mnist", "mnist", "cifar10"])
        #expect(try DatasetCatalog.defaultDirectory(for: "fashion-mnist") == "/usr/share/datasets/fashion-mnist")
        #expect(try DatasetCatalog.defaultDirectory(for: "mnist") == "../shared/data/mnist")
        #expect(try DatasetCatalog.classNames(for: "mnist") == (0...9).map(String.init))
        #expect(try DatasetCatalog.defaultDirectory(for: "cifar10") == nil)
    }

    @Test func loadsFashionMNISTFromItsDefaultDirectory() throws {
        var splits: DatasetSplits?
        let seconds = try measure { splits = try DatasetCatalog.load(name: "fashion-mnist") }
        print("Loaded Fashion-MNIST (70,000 images) in \(String(format: "%.3f", seconds)) s")
        let fashion = try #require(splits)
        #expect(fashion.name == "fashion-mnist")
        #expect(fashion.directory == "/usr/share/datasets/fashion-mnist")
        #expect(fashion.note == nil)
        #expect(fashion.train.count == 60_000)
        #expect(fashion.test.count == 10_000)
        #expect(fashion.train.sampleShape == [1, 28, 28])
        #expect(fashion.test.sampleShape == [1, 28, 28])
        #expect(fashion.train.label(at: 0) == 9)
        #expect(fashion.test.label(at: 0) == 9)
        #expect(fashion.train.classNames == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"])
        // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
        var trainCounts = [Int](repeating: 0, count: 10)
        for label in fashion.train.labels { trainCounts[Int(label)] += 1 }
        #expect(trainCounts == Array(repeating: 6_000, count: 10))
        var testCounts = [Int](repeating: 0, count: 10)
        for label in fashion.test.labels { testCounts[Int(label)] += 1 }
        #expect(testCounts == Array(repeating: 1_000, count: 10))
    }

    // Skipped where the shared MNIST copy is absent (a checkout outside /work):
    // Swift Testing then reports the comment below as the reason.
    @Test(.enabled(if: mnistAvailable, "real MNIST test set not found at ../shared/data/mnist next to the package"))
    func splitsTheMNISTTestSetWhenItIsAllThereIs() throws {
        let mnist = try DatasetCatalog.load(name: "mnist", dataDirectory: mnistDirectory)
        #expect(mnist.train.count == 8_000)
        #expect(mnist.test.count == 2_000)
        #expect(mnist.train.label(at: 0) == 7)
        #expect(mnist.train.classNames == (0...9).map(String.init))
        let note = try #require(mnist.note)
        #expect(note.contains("only the t10k test set (10000 images)"))
        #expect(note.contains("first 8000 for training and the last 2000 for testing"))

        // The test part is the tail of the file, in order.
        let labels = try IDXFile(contentsOf: mnistDirectory + "/t10k-labels-idx1-ubyte.gz", expecting: .labels)
        #expect(labels.bytes[0] == 7)
        #expect(mnist.train.labels == labels.bytes[0..<8_000].map { Int32($0) })
        #expect(mnist.test.labels == labels.bytes[8_000...].map { Int32($0) })
        let images = try IDXFile(contentsOf: mnistDirectory + "/t10k-images-idx3-ubyte.gz", expecting: .images)
        #expect(mnist.test.pixels(at: 0) == Array(images.bytes[(8_000 * 784)..<(8_001 * 784)]))
    }

    @Test func unknownNameListsTheKnownOnes() {
        let error = dataError { _ = try DatasetCatalog.load(name: "cifar-100") }
        #expect(error?.kind == .unknownDataset)
        #expect(error?.description == "unknown data set: 'cifar-100'; known data sets: fashion-mnist, mnist, cifar10")
    }

    @Test func missingDirectoryNamesThePathAndTheFiles() {
        let directory = "/nonexistent/mnist"
        let error = dataError { _ = try DatasetCatalog.load(name: "mnist", dataDirectory: directory) }
        #expect(error?.kind == .missingFiles)
        #expect(error?.path == directory)
        let message = error?.description ?? ""
        #expect(message.hasPrefix(directory + ": missing files: no such directory"))
        for file in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            #expect(message.contains(file))
        }
    }

    @Test func incompleteDirectoryNamesTheMissingFiles() throws {
        try withTemporaryDirectory { directory in
            try writeImages(count: 2, rows: 28, columns: 28, to: directory + "/train-images-idx3-ubyte", gzip: false)
            try writeLabels([1, 2], to: directory + "/train-labels-idx1-ubyte", gzip: false)
            try writeLabels([1, 2], to: directory + "/t10k-labels-idx1-ubyte.gz", gzip: true)
            let error = dataError { _ = try DatasetCatalog.load(name: "fashion-mnist", dataDirectory: directory) }
            #expect(error?.kind == .missingFiles)
            #expect(error?.path == directory)
            #expect(error?.description.contains("lacks t10k-images-idx3-ubyte;") == true)
        }
    }

    @Test func readsPlainAndGzippedFilesMixed() throws {
        try withTemporaryDirectory { directory in
            try writeImages(count: 5, rows: 28, columns: 28, to: directory + "/train-images-idx3-ubyte", gzip: false)
            try writeLabels([0, 1, 2, 3, 4], to: directory + "/train-labels-idx1-ubyte.gz", gzip: true)
            try writeImages(count: 2, rows: 28, columns: 28, to: directory + "/t10k-images-idx3-ubyte.gz", gzip: true)
            try writeLabels([8, 9], to: directory + "/t10k-labels-idx1-ubyte", gzip: false)
            let splits = try DatasetCatalog.load(name: "mnist", dataDirectory: directory + "/")
            #expect(splits.note == nil)
            #expect(splits.train.labels == [0, 1, 2, 3, 4])
            #expect(splits.test.labels == [8, 9])
        }
    }

    @Test func errorsInsideFilesComeThrough() throws {
        try withTemporaryDirectory { directory in
            try writeImages(count: 3, rows: 28, columns: 28, to: directory + "/t10k-images-idx3-ubyte.gz", gzip: true)
            try writeLabels([0, 1], to: directory + "/t10k-labels-idx1-ubyte.gz", gzip: true)
            let error = dataError { _ = try DatasetCatalog.load(name: "mnist", dataDirectory: directory) }
            #expect(error?.kind == .countMismatch)
        }
    }
}
