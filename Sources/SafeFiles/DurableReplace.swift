#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed file-system call while moving a finished file into place.
public struct FileSystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file or directory the call was made on.
    public let path: String
    /// The system call that failed ("fsync", "rename", ...).
    public let operation: String
    /// The `errno` it set.
    public let code: Int32

    /// An error for `operation` on `path` with `errno` value `code`.
    public init(path: String, operation: String, code: Int32) {
        self.path = path
        self.operation = operation
        self.code = code
    }

    /// One line: operation, path and the system's text for the error.
    public var description: String {
        "\(operation) '\(path)' failed: \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// Moves a finished file over `destination` so that a crash at any moment
/// leaves either the old file or the complete new one, never a torn one.
///
/// An HDF5 file whose writer dies is corrupt, so checkpoints are written to
/// `temporary` (in the same directory, so the rename cannot cross file
/// systems), closed, and then: the temporary file is fsynced so its bytes are
/// on disk before its name is, it is renamed over `destination` (atomic on
/// POSIX), and the directory is fsynced so the rename itself survives a
/// power cut.
public func durableReplace(temporary: String, destination: String) throws {
    try fsyncFile(at: temporary, flags: O_RDONLY | O_NOFOLLOW)
    guard rename(temporary, destination) == 0 else {
        throw FileSystemError(path: temporary, operation: "rename to '\(destination)'", code: errno)
    }
    try fsyncFile(at: directory(of: destination), flags: O_RDONLY | O_DIRECTORY)
}

/// Writes `bytes` to a new file at `path` and fsyncs it. A file or link
/// already at `path` is unlinked first, never written through
/// (`createNewFile(at:mode:replacingStale:)`). A short write (a full disk)
/// throws, naming `path` and the errno.
public func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
    let descriptor = try createNewFile(at: path, mode: mode, replacingStale: true)
    defer { _ = close(descriptor) }
    try bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(path: path, operation: "write", code: errno)
            }
            offset += written
        }
    }
    guard fsync(descriptor) == 0 else {
        throw FileSystemError(path: path, operation: "fsync", code: errno)
    }
}

/// Replaces the file at `destination` by `bytes`, durably: written to the
/// hidden temporary `.<name>.tmp` beside it (`writeFile(_:to:mode:)`), then
/// moved into place (`durableReplace(temporary:destination:)`); the
/// temporary is removed if that fails. A link at `destination` is replaced
/// by the file, its target left alone.
public func replaceFile(at destination: String, with bytes: [UInt8], mode: mode_t = 0o644) throws {
    let slash = destination.lastIndex(of: "/").map { destination.index(after: $0) } ?? destination.startIndex
    let temporary = String(destination[..<slash]) + "." + String(destination[slash...]) + ".tmp"
    do {
        try writeFile(bytes, to: temporary, mode: mode)
        try durableReplace(temporary: temporary, destination: destination)
    } catch {
        _ = unlink(temporary)
        throw error
    }
}

/// Opens `path`, fsyncs it and closes it.
private func fsyncFile(at path: String, flags: Int32) throws {
    let descriptor = open(path, flags)
    guard descriptor >= 0 else {
        throw FileSystemError(path: path, operation: "open", code: errno)
    }
    defer { _ = close(descriptor) }
    guard fsync(descriptor) == 0 else {
        throw FileSystemError(path: path, operation: "fsync", code: errno)
    }
}

/// The directory part of `path` ("." for a bare file name).
private func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let parent = path[..<slash]
    return parent.isEmpty ? "/" : String(parent)
}
