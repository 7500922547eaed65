import SafeFiles
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An image data set unpacked once into one uncompressed file, which
/// `ImageDataset` then reads image by image with `pread` (issue 21): the
/// catalog's gzipped IDX and CIFAR-10 files cannot be read at a sample's
/// offset, so without it every rank held every image.
///
/// Layout (little-endian), checked in full when the file is opened:
///
///     "SDDPIMG1"                      8 bytes
///     count, channels, height, width  4 x UInt32
///     reserved                        8 bytes (zero)
///     labels                          count x Int32
///     pixels                          count x channels x height x width bytes
///
/// The file is written to a temporary name and renamed into place, so a
/// reader sees either no file or a whole one. Reading with `pread`, not a
/// memory map: every rank of a machine shares the page cache's one copy,
/// mapped pages would count as each rank's resident memory, and a file
/// truncated under a map kills the process with SIGBUS instead of failing
/// a read.
public final class ImageCacheFile: Sendable {
    public let path: String
    public let count: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    /// One label per image, kept in memory (4 bytes an image).
    public let labels: [Int32]
    private let descriptor: Int32
    private let pixelOffset: Int
    /// The first read that failed; `ImageDataset.readFailure` reports it.
    private let failure = Mutex<DataError?>(nil)

    static let magic = Array("SDDPIMG1".utf8)
    static let headerSize = 32

    /// Opens the cache file at `path` and reads its labels.
    /// - Throws: `DataError` naming the file when it cannot be opened, is not
    ///   such a file, or its size does not match its header.
    public init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { throw DataError(.cannotOpen, path: path, String(cString: strerror(errno))) }
        do {
            var header = [UInt8](repeating: 0, count: Self.headerSize)
            guard Self.readBytes(descriptor, &header[...], at: 0) == nil, Array(header[0..<8]) == Self.magic else {
                throw DataError(.badMagic, path: path, "not an image cache file (expected \"SDDPIMG1\" and a 32-byte header)")
            }
            func field(_ i: Int) -> Int {
                (0..<4).reduce(0) { $0 | Int(header[8 + 4 * i + $1]) << (8 * $1) }
            }
            let (count, channels, height, width) = (field(0), field(1), field(2), field(3))
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw DataError(.readFailed, path: path, String(cString: strerror(errno))) }
            let imageSize = channels * height * width
            let expected = Self.headerSize + count * 4 + count * imageSize
            guard count > 0, imageSize > 0, Int(status.st_size) == expected else {
                throw DataError(.truncated, path: path, "header says \(count) images of \(channels)x\(height)x\(width) "
                                + "(\(expected) bytes) but the file has \(status.st_size)")
            }
            var labelBytes = [UInt8](repeating: 0, count: count * 4)
            if let problem = Self.readBytes(descriptor, &labelBytes[...], at: Self.headerSize) {
                throw DataError(.readFailed, path: path, "labels: \(problem)")
            }
            labels = (0..<count).map { i in
                Int32(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(labelBytes[4 * i + $1]) << (8 * $1) })
            }
            self.path = path
            self.descriptor = descriptor
            self.count = count
            self.channels = channels
            self.height = height
            self.width = width
            pixelOffset = Self.headerSize + count * 4
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit {
        close(descriptor)
    }

    public var readFailure: DataError? { failure.withLock { $0 } }

    /// Reads image `index`'s bytes into `buffer` (channels x height x width
    /// of them); on failure zero-fills it, keeps the first failure in
    /// `readFailure` and returns false.
    func readImage(_ index: Int, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        let size = buffer.count
        guard let problem = Self.readBytes(descriptor, buffer, at: pixelOffset + index * size) else { return true }
        buffer.update(repeating: 0)
        failure.withLock { first in
            if first == nil { first = DataError(.readFailed, path: path, "image \(index): \(problem)") }
        }
        return false
    }

    /// Writes `pixels` (count x channels x height x width bytes) and
    /// `labels` to `path` through a temporary file in the same directory,
    /// flushed and renamed into place.
    public static func write(pixels: [UInt8], labels: [Int32], channels: Int, height: Int, width: Int,
                             to path: String) throws {
        precondition(pixels.count == labels.count * channels * height * width, "pixels do not match the labels' count")
        precondition([labels.count, channels, height, width].allSatisfy { $0 > 0 && $0 <= Int(UInt32.max) })
        var bytes = magic
        bytes.reserveCapacity(headerSize + labels.count * 4 + pixels.count)
        for value in [labels.count, channels, height, width] {
            bytes += (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        }
        bytes += [UInt8](repeating: 0, count: 8)
        for label in labels {
            bytes += (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: label) >> (8 * $0)) }
        }
        bytes += pixels
        try replaceFile(at: path, with: bytes, mode: 0o644)
    }

    /// Fills `buffer` from `descriptor` at `offset`, or says why it could not.
    private static func readBytes(_ descriptor: Int32, _ buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) -> String? {
        switch SafeFiles.readFully(descriptor, into: UnsafeMutableRawBufferPointer(buffer), at: offset) {
        case .complete: nil
        case .endOfFile: "the file ends before byte \(offset + buffer.count) (it was truncated after it was written)"
        case .failed(let code): String(cString: strerror(code))
        }
    }

    private static func readBytes(_ descriptor: Int32, _ bytes: inout ArraySlice<UInt8>, at offset: Int) -> String? {
        bytes.withUnsafeMutableBufferPointer { readBytes(descriptor, $0, at: offset) }
    }
}
