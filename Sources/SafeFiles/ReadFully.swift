#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How `readFully(_:into:at:)` ended.
public enum ReadOutcome: Equatable, Sendable {
    case complete
    /// The file ends before the last byte asked for (it was truncated).
    case endOfFile
    /// `pread` failed with this `errno`.
    case failed(Int32)
}

/// Fills `buffer` from the file open as `descriptor`, starting at byte
/// `offset`, with as many `pread`s as it takes (retrying after a signal):
/// how streamed samples are read, outside any library and its locks.
public func readFully(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> ReadOutcome {
    var done = 0
    while done < buffer.count {
        let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
        if n > 0 {
            done += n
        } else if n < 0 && errno == EINTR {
            continue
        } else if n == 0 {
            return .endOfFile
        } else {
            return .failed(errno)
        }
    }
    return .complete
}
