#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which file a path names, and which version of it: its real path, device
/// and inode, size, and the times of its last change to contents (mtime)
/// and to anything, metadata included (ctime).
///
/// Writing a file, in place or by replacing it, changes at least one of
/// these, so that work done once over a file's contents (an unpacked copy,
/// a checksum, a structure check) can be kept under its identity and
/// reused while the identity holds, as make, rsync and git's index do. No
/// program sets ctime back short of changing the system clock.
public struct FileIdentity: Hashable, Sendable, CustomStringConvertible {
    public let path: String
    public let device: UInt64
    public let inode: UInt64
    public let size: Int
    public let modified: timespec
    public let changed: timespec

    /// The identity of the file at `path` now (after links), or nil when it cannot be stat'ed.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info, path: path)
    }

    /// The identity of the file open as `descriptor`, which was opened from
    /// `path`: the file read, even if another has since taken its name.
    public init?(descriptor: Int32, path: String) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        self.init(info, path: path)
    }

    private init(_ info: stat, path: String) {
        self.path = realpath(path, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? path
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int(info.st_size)
        modified = info.st_mtim
        changed = info.st_ctim
    }

    public var description: String {
        "\(path)|\(device):\(inode)|\(size)|\(modified.tv_sec).\(modified.tv_nsec)|\(changed.tv_sec).\(changed.tv_nsec)"
    }

    public static func == (a: FileIdentity, b: FileIdentity) -> Bool { a.description == b.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}
