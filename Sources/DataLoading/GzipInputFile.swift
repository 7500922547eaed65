import CZlib

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file read through zlib's gz* API, the module's only caller of zlib.
///
/// `gzread` decompresses gzip files and passes plain files through unchanged,
/// so a data set works whether it was downloaded as `.gz` or unpacked.
/// Return codes become `DataError`s that name the file.
final class GzipInputFile {
    let path: String
    private let handle: gzFile
    /// Set when the compressed stream ended before its gzip trailer, i.e. the
    /// `.gz` file itself was cut short; readers mention it in their message.
    private(set) var compressedStreamWasCutShort = false

    /// Opens `path` for reading with a large zlib buffer: the data sets are
    /// tens of megabytes and zlib's default 8 KiB buffer costs many syscalls.
    init(path: String) throws {
        self.path = path
        errno = 0
        guard let handle = gzopen(path, "rb") else {
            let reason = errno == 0 ? "zlib could not allocate its state" : String(cString: strerror(errno))
            throw DataError(.cannotOpen, path: path, reason)
        }
        self.handle = handle
        _ = gzbuffer(handle, 1 << 20)
    }

    deinit {
        gzclose_r(handle)
    }

    /// The rest of the data, at most `limit` bytes, read in chunks of
    /// `chunk` bytes into the array that is returned: memory grows with the
    /// data actually there, not with what a damaged header claims.
    func readAll(atMost limit: Int = .max, chunk: Int) throws -> [UInt8] {
        var data: [UInt8] = []
        data.reserveCapacity(min(limit, chunk))
        while data.count < limit {
            let start = data.count
            let wanted = min(chunk, limit - start)
            data.append(contentsOf: repeatElement(0, count: wanted))
            let n = try data.withUnsafeMutableBytes {
                try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[start...]))
            }
            data.removeLast(wanted - n)
            if n < wanted { break }
        }
        return data
    }

    /// Fills `buffer` from the file and returns how many bytes were read,
    /// fewer than `buffer.count` only at the end of the data.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var total = 0
        while total < buffer.count {
            // gzread takes an unsigned int length; 1 GiB chunks keep it in range.
            let chunk = min(buffer.count - total, 1 << 30)
            let positionBefore = gztell(handle)
            let n = gzread(handle, base + total, UInt32(chunk))
            if n > 0 {
                total += Int(n)
                continue
            }
            var code: Int32 = Z_OK
            let message = gzerror(handle, &code).map { String(cString: $0) } ?? "unknown zlib error"
            if code == Z_BUF_ERROR {
                // zlib's "unexpected end of file": the gzip stream is cut short.
                // gzread then reports 0 although it delivered bytes; gztell
                // still counts them. Treat it as the end of the data so the
                // caller can say how much was there against what it expected.
                compressedStreamWasCutShort = true
                total += max(0, Int(gztell(handle) - positionBefore))
                break
            }
            if n < 0 || (code != Z_OK && code != Z_STREAM_END) {
                throw DataError(.readFailed, path: path, "zlib: \(message)")
            }
            break  // n == 0 with no error: end of file
        }
        return total
    }

    /// Reads and discards the rest of the file, returning its length, so an
    /// error about trailing bytes can say how many there are.
    func countRemainingBytes() throws -> Int {
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        var total = 0
        while true {
            let n = try scratch.withUnsafeMutableBytes { try read(into: $0) }
            total += n
            if n < scratch.count { return total }
        }
    }
}
