import CZlib
import DataLoading
import Foundation

// Shared fixtures for the DataLoading tests: where the real data sets are, a
// scratch directory, and writers for (deliberately broken) IDX files.

/// The package root, found from this file's path: Tests/DataLoadingTests/ is two levels down.
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Fashion-MNIST as installed on the build machines (60,000 train / 10,000 test).
let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

/// The real MNIST test set (10,000 images), shared next to the checkouts.
let mnistDirectory = URL(fileURLWithPath: packageRoot)
    .appendingPathComponent("../shared/data/mnist").standardized.path

let mnistAvailable = FileManager.default.fileExists(atPath: mnistDirectory)

/// Fashion-MNIST, loaded once for all tests (a global `let` is initialised
/// lazily and exactly once, even with tests running in parallel).
let fashionMNIST: DatasetSplits = {
    do {
        return try DatasetCatalog.load(name: "fashion-mnist", dataDirectory: fashionMNISTDirectory)
    } catch {
        fatalError("Fashion-MNIST must be installed at \(fashionMNISTDirectory) for these tests: \(error)")
    }
}()

/// A fresh empty directory, removed when `body` returns.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("DataLoadingTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// An IDX header: magic, then each size as a big-endian Int32.
func idxHeader(magic: UInt32, sizes: [Int]) -> [UInt8] {
    var bytes: [UInt8] = []
    let words: [UInt32] = [magic] + sizes.map { UInt32(truncatingIfNeeded: $0) }
    for word in words {
        for shift: UInt32 in [24, 16, 8, 0] {
            bytes.append(UInt8(truncatingIfNeeded: word >> shift))
        }
    }
    return bytes
}

/// Writes `bytes` to `path`, gzip-compressed through zlib when `gzip` is true.
func writeFile(_ bytes: [UInt8], to path: String, gzip: Bool) throws {
    if !gzip {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return
    }
    guard let file = gzopen(path, "wb") else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
    let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
    let closed = gzclose(file)
    guard written == Int32(bytes.count), closed == Z_OK else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
}

/// Writes an IDX labels file; `extra` bytes are appended after the data.
func writeLabels(_ labels: [UInt8], to path: String, gzip: Bool, extra: [UInt8] = []) throws {
    try writeFile(idxHeader(magic: 0x0000_0801, sizes: [labels.count]) + labels + extra, to: path, gzip: gzip)
}

/// Writes an IDX images file of `count` rows x columns images (pixel k of the
/// file is k mod 256); `pixelBytes` overrides how many pixel bytes follow the header.
func writeImages(count: Int, rows: Int, columns: Int, to path: String, gzip: Bool, pixelBytes: Int? = nil) throws {
    let pixels = (0..<(pixelBytes ?? count * rows * columns)).map { UInt8(truncatingIfNeeded: $0) }
    try writeFile(idxHeader(magic: 0x0000_0803, sizes: [count, rows, columns]) + pixels, to: path, gzip: gzip)
}

/// Runs `body`, which should throw a `DataError`, and returns that error.
func dataError(_ body: () throws -> Void) -> DataError? {
    do {
        try body()
        return nil
    } catch let error as DataError {
        return error
    } catch {
        return nil
    }
}

/// A tiny data set whose sample `i` is `[i, -i]` with label `i % 10`, so a
/// batch's contents show exactly which samples it holds.
struct CountingDataset: Dataset {
    let count: Int
    var sampleShape: [Int] { [2] }
    var classNames: [String] { [] }

    func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        destination[0] = Float(index)
        destination[1] = -Float(index)
        return Int32(index % 10)
    }
}

/// Seconds taken by `body`.
func measure(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
