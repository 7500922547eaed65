#if canImport(Glibc)
import Glibc
#endif

/// What `path` is, in words, when it exists and is not a regular file
/// (after links): a FIFO, a device, a directory, a socket. Reading such a
/// "file" blocks until a writer comes (a FIFO) or never ends (/dev/zero),
/// so readers refuse it before opening it. Nil for a regular file or a
/// path that stat cannot see (opening it then says why).
public func specialFileKind(_ path: String) -> String? {
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }
    switch status.st_mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: return "directory"
    case S_IFIFO: return "FIFO"
    case S_IFCHR: return "character device"
    case S_IFBLK: return "block device"
    case S_IFSOCK: return "socket"
    default: return "special file"
    }
}
