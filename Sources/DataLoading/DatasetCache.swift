import Foundation
import SafeFiles

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the catalog keeps its data sets unpacked (`ImageCacheFile`), so
/// that ranks stream images from one uncompressed file instead of each
/// reading every gzipped file whole (issue 21).
///
/// A cache file is named after the data set and a hash of its source files'
/// identities (`FileIdentity`: path, inode, size, times): a source replaced
/// or rewritten gets a new cache file, never a stale one. The first process
/// to need it unpacks it under an advisory lock beside it (`flock`), so the
/// ranks of one machine never race to write it: the others wait, then read
/// what it wrote. Nothing is ever deleted; stale files can be removed by
/// hand at any time a run is not starting.
public struct DatasetCache: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The cache in `RecordCache.defaultDirectory`, or nil when no home is known.
    public static var shared: DatasetCache? {
        RecordCache.defaultDirectory.map { DatasetCache(directory: $0) }
    }

    /// How long a process waits for another to finish unpacking the same
    /// data set (Fashion-MNIST takes about a second; CIFAR-10 a few).
    static let lockWaitSeconds = 600.0

    /// The images of `sources` from their cache file, made first by
    /// `unpack` (which reads the sources whole, in memory) when there is
    /// none; `mean` and `std` as for `ImageDataset(pixels:...)`.
    ///
    /// A cache that cannot be used (a directory that cannot be created, a
    /// full disk) is not an error: the images `unpack` read are returned as
    /// they are, in memory, with a note saying why, which the trainer prints.
    /// - Throws: what `unpack` throws: the sources' own problems, naming them.
    public func images(of name: String, sources: [String], classNames: [String], mean: [Float]? = nil, std: [Float]? = nil,
                       unpack: () throws -> ImageDataset) throws -> (images: ImageDataset, note: String?) {
        func cached(_ file: ImageCacheFile) -> ImageDataset {
            ImageDataset(cacheFile: file, classNames: classNames, mean: mean, std: std)
        }
        func inMemory(_ images: ImageDataset, _ why: String) -> (ImageDataset, String?) {
            (images.normalized(mean: mean ?? images.mean, std: std ?? images.std),
             "\(name): \(why); its images are read into memory (set SWIFTDDP_CACHE_DIR to a writable directory to stream them)")
        }
        let path = try cachePath(of: name, sources: sources)
        if let file = try? ImageCacheFile(path: path) { return (cached(file), nil) }
        let lock: Lock
        do {
            try createDirectories(at: directory)
            lock = try Lock(path + ".lock")
        } catch {
            return inMemory(try unpack(), "cannot use the data cache \(directory): \(error)")
        }
        defer { lock.release() }
        // Another process may have written it while this one waited.
        if let file = try? ImageCacheFile(path: path) { return (cached(file), nil) }
        let unpacked = try unpack()
        do {
            try unpacked.writeCacheFile(to: path)
            return (cached(try ImageCacheFile(path: path)), nil)
        } catch {
            return inMemory(unpacked, "cannot write its cache file \(path): \(fileSystemReason(error))")
        }
    }

    /// `directory/name-HASH.images`, HASH from each source's `FileIdentity`.
    func cachePath(of name: String, sources: [String]) throws -> String {
        var key = "image-cache-1"
        for source in sources {
            guard let identity = FileIdentity(path: source) else {
                throw DataError(.cannotOpen, path: source, String(cString: strerror(errno)))
            }
            key += "|\(identity)"
        }
        return directory + "/" + name + "-" + RecordCache.fileName(for: key) + ".images"
    }

    /// An exclusive `flock` on a file beside the cache file, waited for at
    /// most `lockWaitSeconds`.
    private struct Lock {
        let descriptor: Int32

        init(_ path: String) throws {
            descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw DataError(.cannotOpen, path: path, "cannot open the lock: \(String(cString: strerror(errno)))")
            }
            let deadline = Date().addingTimeInterval(DatasetCache.lockWaitSeconds)
            while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                    let reason = errno == EWOULDBLOCK ? "another process has held it for \(Int(DatasetCache.lockWaitSeconds)) s"
                        : String(cString: strerror(errno))
                    close(descriptor)
                    throw DataError(.cannotOpen, path: path, "cannot lock it: \(reason)")
                }
                usleep(20_000)
            }
        }

        func release() {
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
    }
}
