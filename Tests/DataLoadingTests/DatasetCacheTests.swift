import DataLoading
import Foundation
import Synchronization
import Testing

/// The catalog's data sets unpacked once into a cache file and streamed
/// from it (issue 21): the same samples as in memory, made once, never
/// stale, never raced, and a cache that cannot be used is not an error.
@Suite struct DatasetCacheTests {
    /// An IDX training and test pair in `directory`, with recognisable pixels.
    private func writeIDX(_ directory: String, trainCount: Int = 7, testCount: Int = 3) throws {
        try writeImages(count: trainCount, rows: 4, columns: 5, to: directory + "/train-images-idx3-ubyte.gz", gzip: true)
        try writeLabels((0..<trainCount).map { UInt8($0 % 10) }, to: directory + "/train-labels-idx1-ubyte.gz", gzip: true)
        try writeImages(count: testCount, rows: 4, columns: 5, to: directory + "/t10k-images-idx3-ubyte", gzip: false)
        try writeLabels((0..<testCount).map { UInt8(9 - $0 % 10) }, to: directory + "/t10k-labels-idx1-ubyte", gzip: false)
    }

    private func cacheFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".images") }.sorted()
    }

    private func expectSameSamples(_ a: ImageDataset, _ b: ImageDataset) {
        #expect(a.count == b.count && a.sampleShape == b.sampleShape && a.labels == b.labels)
        for index in 0..<a.count {
            let (x, y) = (a[index], b[index])
            #expect(x.label == y.label)
            #expect(x.input.map(\.bitPattern) == y.input.map(\.bitPattern), "sample \(index)")
        }
    }

    @Test func streamsBitwiseWhatMemoryHoldsAndUnpacksOnce() throws {
        try withTemporaryDirectory { directory in
            try writeIDX(directory)
            let cache = DatasetCache(directory: directory + "/cache")
            let memory = try DatasetCatalog.load(name: "mnist", dataDirectory: directory, cache: nil)
            let streamed = try DatasetCatalog.load(name: "mnist", dataDirectory: directory, cache: cache)
            #expect(streamed.note == nil)
            expectSameSamples(memory.train, streamed.train)
            expectSameSamples(memory.test, streamed.test)
            #expect(streamed.train.pixels(at: 2) == memory.train.pixels(at: 2))
            let files = try cacheFiles(cache.directory)
            #expect(files.count == 2 && files[0].hasPrefix("mnist-test-") && files[1].hasPrefix("mnist-train-"))

            // A second load reads the same files: not unpacked again.
            let inode = { (name: String) in
                try FileManager.default.attributesOfItem(atPath: cache.directory + "/" + name)[.systemFileNumber] as? Int
            }
            let before = try files.map(inode)
            let again = try DatasetCatalog.load(name: "mnist", dataDirectory: directory, cache: cache)
            #expect(try files.map(inode) == before)
            expectSameSamples(memory.train, again.train)

            // A source rewritten gets a cache file of its own, never the stale one.
            try writeLabels((0..<7).map { UInt8(($0 + 1) % 10) }, to: directory + "/train-labels-idx1-ubyte.gz", gzip: true)
            let rewritten = try DatasetCatalog.load(name: "mnist", dataDirectory: directory, cache: cache)
            #expect(rewritten.train.labels == (0..<7).map { Int32(($0 + 1) % 10) })
            #expect(try cacheFiles(cache.directory).count == 3)
        }
    }

    @Test func theTestSetAloneIsSplitFromItsCacheFile() throws {
        try withTemporaryDirectory { directory in
            try writeImages(count: 10, rows: 2, columns: 3, to: directory + "/t10k-images-idx3-ubyte.gz", gzip: true)
            try writeLabels((0..<10).map { UInt8($0) }, to: directory + "/t10k-labels-idx1-ubyte.gz", gzip: true)
            let memory = try DatasetCatalog.load(name: "mnist", dataDirectory: directory, cache: nil)
            let streamed = try DatasetCatalog.load(name: "mnist", dataDirectory: directory,
                                                   cache: DatasetCache(directory: directory + "/cache"))
            #expect(streamed.note == memory.note)
            #expect(streamed.train.count == 8 && streamed.test.labels == [8, 9])
            expectSameSamples(memory.train, streamed.train)
            expectSameSamples(memory.test, streamed.test)
        }
    }

    @Test func cifar10KeepsItsNormalisationThroughTheCache() throws {
        try withTemporaryDirectory { directory in
            for (index, name) in ((1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin"]).enumerated() {
                var bytes: [UInt8] = []
                for record in 0..<2 {
                    bytes.append(UInt8((index + record) % 10))
                    bytes += (0..<3072).map { UInt8(truncatingIfNeeded: $0 * 7 + record + index) }
                }
                try writeFile(bytes, to: directory + "/" + name, gzip: index == 0)
            }
            let memory = try DatasetCatalog.load(name: "cifar10", dataDirectory: directory, cache: nil)
            let streamed = try DatasetCatalog.load(name: "cifar10", dataDirectory: directory,
                                                   cache: DatasetCache(directory: directory + "/cache"))
            #expect(streamed.train.count == 10 && streamed.test.count == 2)
            #expect(streamed.train.mean == [0.5, 0.5, 0.5] && streamed.train.std == [0.5, 0.5, 0.5])
            expectSameSamples(memory.train, streamed.train)
            expectSameSamples(memory.test, streamed.test)
            #expect(streamed.train[0].input.min() == -1 && streamed.train[0].input.max() == 1)
        }
    }

    @Test func ranksStartingTogetherUnpackOnce() throws {
        try withTemporaryDirectory { directory in
            try writeIDX(directory, trainCount: 2_000, testCount: 500)
            let cache = DatasetCache(directory: directory + "/cache")
            // Each thread opens the lock file itself: flock excludes separate
            // opens in one process as it does separate processes.
            let results = Mutex<[[Int32]]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                let labels = try? DatasetCatalog.load(name: "mnist", dataDirectory: directory, cache: cache).train.labels
                results.withLock { $0.append(labels ?? []) }
            }
            let all = results.withLock { $0 }
            #expect(all.count == 4 && all.allSatisfy { $0 == (0..<2_000).map { Int32($0 % 10) } })
            #expect(try cacheFiles(cache.directory).count == 2)
            #expect(try FileManager.default.contentsOfDirectory(atPath: cache.directory).filter { $0.hasSuffix(".tmp") }.isEmpty)
        }
    }

    @Test func aCacheThatCannotBeMadeReadsIntoMemoryAndSaysWhy() throws {
        try withTemporaryDirectory { directory in
            try writeIDX(directory)
            try Data("not a directory".utf8).write(to: URL(fileURLWithPath: directory + "/cache"))
            let splits = try DatasetCatalog.load(name: "mnist", dataDirectory: directory,
                                                 cache: DatasetCache(directory: directory + "/cache/sub"))
            let note = try #require(splits.note)
            #expect(note.contains("cannot use the data cache \(directory)/cache/sub"))
            #expect(note.contains("read into memory"))
            #expect(splits.train.labels == (0..<7).map { Int32($0 % 10) })
        }
    }

    @Test func aDamagedCacheFileIsMadeAgain() throws {
        try withTemporaryDirectory { directory in
            try writeIDX(directory)
            let cache = DatasetCache(directory: directory + "/cache")
            _ = try DatasetCatalog.load(name: "mnist", dataDirectory: directory, cache: cache)
            let train = cache.directory + "/" + (try cacheFiles(cache.directory)[1])
            #expect(truncate(train, 100) == 0)
            let again = try DatasetCatalog.load(name: "mnist", dataDirectory: directory, cache: cache)
            expectSameSamples(try DatasetCatalog.load(name: "mnist", dataDirectory: directory, cache: nil).train, again.train)
            #expect(throws: DataError.self) { _ = try ImageCacheFile(path: directory + "/train-labels-idx1-ubyte.gz") }
        }
    }

    @Test func aCacheFileTruncatedWhileReadIsAReadFailure() throws {
        try withTemporaryDirectory { directory in
            try writeIDX(directory)
            let cache = DatasetCache(directory: directory + "/cache")
            let splits = try DatasetCatalog.load(name: "mnist", dataDirectory: directory, cache: cache)
            #expect(splits.train.readFailure == nil)
            let train = cache.directory + "/" + (try cacheFiles(cache.directory)[1])
            #expect(truncate(train, 100) == 0)
            let sample = splits.train[6]
            #expect(sample.input.allSatisfy { $0.isNaN })
            let failure = try #require(splits.train.readFailure)
            #expect(failure.kind == .readFailed && failure.path == train)
            #expect(failure.detail.contains("image 6"))
        }
    }
}
